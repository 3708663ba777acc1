#!/usr/bin/env bash
# The crawler benchmark (issue: "crawl a few hundred real pages from a local nginx ... beside an
# aiohttp + html.parser crawler doing the same BFS"): nginx serves Debian's python3.11-doc HTML
# on a loopback port; bench/python/crawl_aiohttp.py and `pyconc crawl` (each model) crawl it
# from index.html, same host, concurrency 32; the page sets are compared and the wall times
# printed side by side. Usage: bash bench/crawl.sh PYCONC_BINARY   (bench/run.sh passes
# build-bench's; any build of tools/pyconc works).
set -euo pipefail

tool=${1:?usage: bench/crawl.sh PATH/TO/pyconc}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
docs=/usr/share/doc/python3.11/html
concurrency=${PYCONC_CRAWL_CONCURRENCY:-32}
[ -x "$tool" ] || { echo "bench/crawl.sh: $tool is not an executable" >&2; exit 1; }
[ -f "$docs/index.html" ] || { echo "bench/crawl.sh: no $docs (scripts/deps.sh bench installs python3.11-doc): skipped"; exit 0; }
py=/usr/bin/python3
[ -x "$py" ] && "$py" -c 'import aiohttp' 2>/dev/null || { echo "bench/crawl.sh: $py has no aiohttp (python3-aiohttp): skipped"; exit 0; }

if ! nginx_env=$(bash "$here/nginx.sh" start "$docs"); then
  echo "bench/crawl.sh: nginx did not start: skipped"
  exit 0
fi
eval "$nginx_env"
work=$(mktemp -d /tmp/pyconc-crawl-bench-XXXXXX)
trap 'bash "$here/nginx.sh" stop "$NGINX_DIR"; rm -rf "$work"' EXIT
start="$PYCONC_BENCH_HTTP_URL/index.html"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# Python first, then every model; each once more after a warm-up round (page cache, nginx).
"$py" "$here/python/crawl_aiohttp.py" "$start" --concurrency "$concurrency" --out "$work/warm.txt" > /dev/null
py_line=$("$py" "$here/python/crawl_aiohttp.py" "$start" --concurrency "$concurrency" --out "$work/python.txt" | grep '^crawl_python')
py_pages=$(echo "$py_line" | cut -d' ' -f2)
py_secs=$(echo "$py_line" | cut -d' ' -f3)
sort -u "$work/python.txt" > "$work/python.sorted"

printf '\n### Crawl of Python 3.11 docs from nginx (%s), concurrency %s, %s\n\n' "$start" "$concurrency" "$(date +%F)"
printf '| crawler | pages | wall time | pages/s | speed-up vs Python | same page set |\n|---|---|---|---|---|---|\n'
printf '| Python aiohttp + html.parser | %s | %.2f s | %.0f | 1.0× | — |\n' "$py_pages" "$py_secs" "$(echo "$py_pages / $py_secs" | bc -l)"
for model in asyncio threads pipeline processes; do
  "$tool" crawl "$start" --same-host --concurrency "$concurrency" --per-host "$concurrency" \
    --model "$model" --progress never --out "$work/$model.jsonl" > /dev/null
  t0=$(date +%s.%N)
  "$tool" crawl "$start" --same-host --concurrency "$concurrency" --per-host "$concurrency" \
    --model "$model" --progress never --out "$work/$model.jsonl" > "$work/$model.summary"
  t1=$(date +%s.%N)
  secs=$(echo "$t1 - $t0" | bc -l)
  pages=$(wc -l < "$work/$model.jsonl")
  "$py" -c 'import json,sys; [print(json.loads(l)["url"]) for l in open(sys.argv[1])]' "$work/$model.jsonl" | sort -u > "$work/$model.sorted"
  if cmp -s "$work/$model.sorted" "$work/python.sorted"; then same=yes; else
    same="no: $(comm -23 "$work/$model.sorted" "$work/python.sorted" | wc -l) only here, $(comm -13 "$work/$model.sorted" "$work/python.sorted" | wc -l) only in Python"
  fi
  printf '| pyconc crawl --model %s | %s | %.2f s | %.0f | %.1f× | %s |\n' "$model" "$pages" "$secs" \
    "$(echo "$pages / $secs" | bc -l)" "$(echo "$py_secs / $secs" | bc -l)" "$same"
done
printf '\nWall time of the whole command (process start, robots.txt, crawl, JSONL) for pyconc; of\nthe crawl for Python. Load average %s at start, %s at end. Target: >= 5x Python.\n' \
  "$load_start" "$(cut -d' ' -f1-3 /proc/loadavg)"
