#!/usr/bin/env bash
# The crawler on real sites (issue 14 §1): nginx serves Debian's python3.11-doc (527 pages) and
# libstdc++-12-doc (Doxygen, ~3,750 pages); bench/python/crawl_aiohttp.py and `pyconc crawl`
# (asyncio and threads models; optionally a second "before" binary) crawl each from index.html,
# same host, concurrency 32, interleaved, best of N rounds. Prints, per crawler: pages, whether
# the page set equals Python's, wall time, CPU time (user+sys) and peak RSS (/usr/bin/time %M),
# and the speed-ups against Python. Usage:
#   bash bench/crawl_sites.sh PYCONC_BINARY [BEFORE_BINARY]     (PYCONC_CRAWL_ROUNDS, default 3)
set -euo pipefail

tool=${1:?usage: bench/crawl_sites.sh PATH/TO/pyconc [PATH/TO/older/pyconc]}
before=${2:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rounds=${PYCONC_CRAWL_ROUNDS:-3}
concurrency=${PYCONC_CRAWL_CONCURRENCY:-32}
py=/usr/bin/python3
timer=/usr/bin/time
[ -x "$tool" ] || { echo "bench/crawl_sites.sh: $tool is not an executable" >&2; exit 1; }
[ -x "$timer" ] || { echo "bench/crawl_sites.sh: no $timer (package time): skipped"; exit 0; }
"$py" -c 'import aiohttp' 2>/dev/null || { echo "bench/crawl_sites.sh: $py has no aiohttp: skipped"; exit 0; }

work=$(mktemp -d /tmp/pyconc-crawl-sites-XXXXXX)
NGINX_DIR=
trap '[ -n "$NGINX_DIR" ] && bash "$here/nginx.sh" stop "$NGINX_DIR"; rm -rf "$work"' EXIT

# run NAME CMD...: one timed run; appends "wall cpu rss_kb" to $work/NAME.times.
run() {
  local name=$1
  shift
  "$timer" -f '%e %U %S %M' -o "$work/$name.time" "$@" > /dev/null 2> "$work/$name.err"
  awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$work/$name.time" >> "$work/$name.times"
}

url_set() {  # JSONL (pyconc) or one URL a line (Python) -> sorted URL set
  "$py" -c 'import json,sys
for l in open(sys.argv[1]):
    l = l.strip()
    if l: print(json.loads(l)["url"] if l.startswith("{") else l)' "$1" | sort -u
}

site() {
  local label=$1 root=$2
  [ -f "$root/index.html" ] || { echo "bench/crawl_sites.sh: no $root (scripts/deps.sh bench): $label skipped"; return; }
  eval "$(bash "$here/nginx.sh" start "$root")"
  local start="$PYCONC_BENCH_HTTP_URL/index.html"
  local crawlers=(python after_asyncio after_threads)
  [ -n "$before" ] && crawlers=(python before_asyncio after_asyncio before_threads after_threads)
  rm -f "$work"/*.times
  local load0
  load0=$(cut -d' ' -f1-3 /proc/loadavg)
  "$py" "$here/python/crawl_aiohttp.py" "$start" --concurrency "$concurrency" --out "$work/warm.txt" > /dev/null
  for ((r = 0; r < rounds; ++r)); do
    for c in "${crawlers[@]}"; do
      case $c in
        python) run python "$py" "$here/python/crawl_aiohttp.py" "$start" --concurrency "$concurrency" --out "$work/python.out" ;;
        *) bin=$tool; [ "${c%%_*}" = before ] && bin=$before
           run "$c" "$bin" crawl "$start" --same-host --concurrency "$concurrency" --per-host "$concurrency" \
             --model "${c#*_}" --progress never --out "$work/$c.out" ;;
      esac
    done
  done
  url_set "$work/python.out" > "$work/python.set"
  local py_wall py_cpu
  py_wall=$(sort -n "$work/python.times" | head -1 | cut -d' ' -f1)
  py_cpu=$(sort -n -k2 "$work/python.times" | head -1 | cut -d' ' -f2)
  printf '\n### %s from nginx (%s), concurrency %s, best of %s, %s\n\n' "$label" "$start" "$concurrency" "$rounds" "$(date +%F)"
  printf '| crawler | pages | same page set | wall | CPU (user+sys) | peak RSS | wall vs Python | CPU vs Python |\n|---|---|---|---|---|---|---|---|\n'
  for c in "${crawlers[@]}"; do
    url_set "$work/$c.out" > "$work/$c.set"
    local pages same wall cpu rss
    pages=$(wc -l < "$work/$c.set")
    if [ "$c" = python ]; then same="—"; elif cmp -s "$work/$c.set" "$work/python.set"; then same=yes; else
      same="no: $(comm -23 "$work/$c.set" "$work/python.set" | wc -l) only here, $(comm -13 "$work/$c.set" "$work/python.set" | wc -l) only in Python"
    fi
    wall=$(sort -n "$work/$c.times" | head -1 | cut -d' ' -f1)
    cpu=$(sort -n -k2 "$work/$c.times" | head -1 | cut -d' ' -f2)
    rss_lo=$(sort -n -k3 "$work/$c.times" | head -1 | cut -d' ' -f3)
    rss_hi=$(sort -n -k3 "$work/$c.times" | tail -1 | cut -d' ' -f3)
    printf '| %s | %s | %s | %.2f s | %.2f s | %.0f–%.0f MB | %.1f× | %.1f× |\n' "$c" "$pages" "$same" "$wall" "$cpu" \
      "$(echo "$rss_lo / 1024" | bc -l)" "$(echo "$rss_hi / 1024" | bc -l)" "$(echo "$py_wall / $wall" | bc -l)" "$(echo "$py_cpu / $cpu" | bc -l)"
  done
  printf '\nLoad average %s at start, %s at end. Wall and CPU: the best of the %s rounds; peak RSS: the\nsmallest and largest peak of the rounds. python = bench/python/crawl_aiohttp.py; before/after = the two pyconc binaries.\n' \
    "$load0" "$(cut -d' ' -f1-3 /proc/loadavg)" "$rounds"
  bash "$here/nginx.sh" stop "$NGINX_DIR"
  NGINX_DIR=
}

site "Python 3.11 docs (python3.11-doc)" /usr/share/doc/python3.11/html
site "libstdc++ 12 docs (libstdc++-12-doc)" /usr/share/doc/libstdc++-12-doc/libstdc++
