#!/usr/bin/env bash
# The HTTP client benchmark: starts nginx on a loopback port (bench/nginx.sh), runs
# BUILD_DIR/bench/aiohttp_client_bench (pyconc's ClientSession beside libcurl's own loop) and
# bench/python/aiohttp_client.py (CPython's aiohttp, default loop and uvloop) against it, stops
# nginx and prints a summary table. Called by bench/run.sh; usable alone:
#   bash bench/aiohttp_client.sh build-bench
# Environment: PYCONC_BENCH_MIN_TIME, PYCONC_BENCH_REPETITIONS as bench/run.sh.
set -euo pipefail

build=${1:?usage: bench/aiohttp_client.sh BUILD_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out="$build/bench-results"
min_time=${PYCONC_BENCH_MIN_TIME:-0.2}
reps=${PYCONC_BENCH_REPETITIONS:-5}
mkdir -p "$out"
exe="$build/bench/aiohttp_client_bench"
[ -x "$exe" ] || { echo "bench/aiohttp_client.sh: $exe is missing (build with -DPYCONC_BUILD_BENCH=ON)" >&2; exit 1; }

if ! nginx_env=$(bash "$here/nginx.sh" start); then
  echo "bench/aiohttp_client.sh: no nginx (scripts/deps.sh bench): HTTP client benchmark skipped"
  exit 0
fi
eval "$nginx_env"
trap 'bash "$here/nginx.sh" stop "$NGINX_DIR"' EXIT
export PYCONC_BENCH_HTTP_URL

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== aiohttp_client_bench (nginx at $PYCONC_BENCH_HTTP_URL)"
"$exe" --benchmark_min_time="$min_time" --benchmark_repetitions="$reps" \
  --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true \
  --benchmark_out="$out/aiohttp_client_bench.json" --benchmark_out_format=json
py=/usr/bin/python3
[ -x "$py" ] || py=python3
echo "== CPython aiohttp ($py)"
"$py" "$here/python/aiohttp_client.py" --repetitions "$reps" | tee "$out/python_http_client.txt"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

echo
python3 "$here/python/summarize.py" --python "$out/python_http_client.txt" \
  --title "HTTP client, $(date +%F), $(nproc) CPUs, load average $load_start at start, $load_end at end" \
  "$out/aiohttp_client_bench.json"
