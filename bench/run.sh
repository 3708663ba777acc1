#!/usr/bin/env bash
# Runs every Google Benchmark binary of BUILD_DIR/bench, then the CPython side, and prints the
# summary table (pyconc vs C++ peer vs Python, with targets). Called by `make bench`.
#
# Usage: bench/run.sh BUILD_DIR
# Environment (optional):
#   PYCONC_BENCH_MIN_TIME     seconds per Google Benchmark repetition (default 0.2)
#   PYCONC_BENCH_REPETITIONS  repetitions; their median is reported (default 5)
#   PYCONC_BENCH_FILTER       --benchmark_filter regex (default: all)
# Results are kept in BUILD_DIR/bench-results/: <binary>.json, python.txt, summary.md.
set -euo pipefail

build=${1:?usage: bench/run.sh BUILD_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out="$build/bench-results"
min_time=${PYCONC_BENCH_MIN_TIME:-0.2}
reps=${PYCONC_BENCH_REPETITIONS:-5}
filter=${PYCONC_BENCH_FILTER:-.}
mkdir -p "$out"

load_start=$(cut -d' ' -f1-3 /proc/loadavg)

benches=(threading_bench queue_bench futures_bench asyncio_bench aiohttp_bench subprocess_bench asyncio_echo_bench asyncio_prims_bench serialize_bench multiprocessing_bench multiprocessing_ipc_bench websocket_echo_bench trace_bench)
jsons=()
for b in "${benches[@]}"; do
  exe="$build/bench/$b"
  if [ ! -x "$exe" ]; then
    echo "bench/run.sh: $exe is missing (build with -DPYCONC_BUILD_BENCH=ON)" >&2
    exit 1
  fi
  echo "== $b"
  # Random interleaving runs the repetitions of all benchmarks in a shuffled order, so a burst
  # of load from another process on this shared machine hits pyconc and its peer alike
  # instead of skewing whichever happened to run during it.
  "$exe" --benchmark_min_time="$min_time" --benchmark_repetitions="$reps" \
    --benchmark_enable_random_interleaving=true \
    --benchmark_report_aggregates_only=true --benchmark_filter="$filter" \
    --benchmark_out="$out/$b.json" --benchmark_out_format=json
  jsons+=("$out/$b.json")
done

# trace_bench again, traced: its "trace_on" rows (tracing is decided at start-up).
echo "== trace_bench (PYCONC_TRACE set)"
PYCONC_TRACE="$out/trace_bench_trace.json" "$build/bench/trace_bench" \
  --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
  --benchmark_filter="$filter" --benchmark_out="$out/trace_bench_on.json" --benchmark_out_format=json
jsons+=("$out/trace_bench_on.json")

# The HTTP client against a local nginx, beside libcurl alone and Python's aiohttp (its own table).
bash "$here/aiohttp_client.sh" "$build" | tee "$out/http_client.md"

# CPython: Debian's interpreter (what users have), else whatever python3 is on PATH.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
echo "== CPython ($py)"
"$py" "$here/python/threading_queue.py" | tee "$out/python.txt"
"$py" "$here/python/futures_pool.py" | tee -a "$out/python.txt"
"$py" "$here/python/asyncio_core.py" | tee -a "$out/python.txt"
"$py" "$here/python/http_parse.py" | tee -a "$out/python.txt"
"$py" "$here/python/subprocess_run.py" --min-time "$min_time" --repetitions "$reps" | tee -a "$out/python.txt"
"$py" "$here/python/asyncio_prims.py" | tee -a "$out/python.txt"
"$py" "$here/python/multiprocessing_pool.py" | tee -a "$out/python.txt"
"$py" "$here/python/multiprocessing_ipc.py" | tee -a "$out/python.txt"

echo "== MPI (pyconc::mpi vs mpi4py.futures)"
bash "$here/mpi.sh" "$build" | tee "$out/mpi.md"

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
title="pyconc make bench -- $(date +%F), $(nproc) CPUs ($cpu), load average $load_start at start, \
$load_end at end; Google Benchmark median of $reps x ${min_time}s"

echo "== HTTP server (wrk)"
bash "$here/http_server.sh" "$build" | tee "$out/http_server.md"

echo "== Crawler (Python docs from nginx)"
if [ -x "$build/tools/pyconc/pyconc" ]; then
  bash "$here/crawl.sh" "$build/tools/pyconc/pyconc" | tee "$out/crawl.md"
  echo "== Crawler on two real sites (time, CPU, peak RSS)"
  bash "$here/crawl_sites.sh" "$build/tools/pyconc/pyconc" | tee -a "$out/crawl.md"
else
  echo "bench/run.sh: $build/tools/pyconc/pyconc is missing: crawler benchmark skipped" | tee "$out/crawl.md"
fi

echo
echo "== Summary"
python3 "$here/python/summarize.py" --title "$title" --python "$out/python.txt" "${jsons[@]}" \
  | tee "$out/summary.md"
cat "$out/http_server.md" "$out/crawl.md" "$out/mpi.md" | tee -a "$out/summary.md"
