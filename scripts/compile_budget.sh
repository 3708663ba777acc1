#!/usr/bin/env bash
# Compile-time budget of the public headers (make compile-budget; also printed by make bench).
#
# Times `$CXX -std=c++20 -O0 -c` of a translation unit holding only one include, for every
# module header and the umbrella, beside the floor: a unit holding <thread> + <future> + <mutex>
# (what any threaded C++ program already pays). Each figure is the compiler's CPU time (user +
# sys, so that other processes on a loaded machine count less than in wall time), best of
# ROUNDS; the runs are interleaved, round after round, so that a change of machine load hits
# every header alike. Absolute seconds vary; the ratio to the floor in the same run is the figure.
#
# Usage: scripts/compile_budget.sh [--check] [--rounds N] [--cxx g++|clang++] [--include DIR]
#   --check     exit 1 when a header is over its budget (module header <= 1.15x, umbrella <= 1.9x)
#   --include   the include directory to measure (default: this checkout's include/), e.g. an
#               older checkout's, to compare before and after in one run
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
rounds=${ROUNDS:-3}
cxx=${CXX:-g++}
incdir=include
while [ $# -gt 0 ]; do
  case "$1" in
    --check) check=1 ;;
    --rounds) rounds=$2; shift ;;
    --cxx) cxx=$2; shift ;;
    --include) incdir=$2; shift ;;
    *) echo "usage: $0 [--check] [--rounds N] [--cxx COMPILER] [--include DIR]" >&2; exit 2 ;;
  esac
  shift
done

module_budget=1.15
umbrella_budget=1.90
# name|include lines|budget
units=(
  "floor: <thread>+<future>+<mutex>|#include <thread>\n#include <future>\n#include <mutex>|"
  "pyconc/threading.hpp|#include <pyconc/threading.hpp>|$module_budget"
  "pyconc/queue.hpp|#include <pyconc/queue.hpp>|$module_budget"
  "pyconc/futures.hpp|#include <pyconc/futures.hpp>|$module_budget"
  "pyconc/subprocess.hpp|#include <pyconc/subprocess.hpp>|$module_budget"
  "pyconc/multiprocessing.hpp|#include <pyconc/multiprocessing.hpp>|$module_budget"
  "pyconc/asyncio.hpp|#include <pyconc/asyncio.hpp>|$module_budget"
  "pyconc/aiohttp.hpp|#include <pyconc/aiohttp.hpp>|$module_budget"
  "pyconc/pyconc.hpp (umbrella)|#include <pyconc/pyconc.hpp>|$umbrella_budget"
)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
declare -a best
for i in "${!units[@]}"; do
  IFS='|' read -r _ inc _ <<<"${units[$i]}"
  printf '%b\n' "$inc" >"$tmp/u$i.cpp"
  best[$i]=999
done

# CPU seconds (user + sys) of one compilation, from bash's `time` keyword.
cpu_seconds() {
  local TIMEFORMAT='%U %S' out
  out=$({ time "$cxx" -std=c++20 -O0 "-I$incdir" -c "$1" -o "$1.o" >/dev/null; } 2>&1 | tail -1)
  echo "$out" | awk '{print $1 + $2}'
}
for ((r = 0; r < rounds; r++)); do
  for i in "${!units[@]}"; do
    d=$(cpu_seconds "$tmp/u$i.cpp")
    best[$i]=$(echo "$d ${best[$i]}" | awk '{print ($1 < $2 ? $1 : $2)}')
  done
done

floor=${best[0]}
status=0
printf '%-34s %8s %8s %8s  %s\n' "include ($cxx, CPU s, best of $rounds)" seconds "x floor" budget verdict
for i in "${!units[@]}"; do
  IFS='|' read -r name _ budget <<<"${units[$i]}"
  ratio=$(echo "${best[$i]} $floor" | awk '{printf "%.2f", $1 / $2}')
  verdict=""
  if [ -n "$budget" ]; then
    if awk -v r="$ratio" -v b="$budget" 'BEGIN { exit !(r <= b) }'; then
      verdict=PASS
    else
      verdict=OVER
      status=1
    fi
  fi
  printf '%-34s %8.2f %8s %8s  %s\n' "$name" "${best[$i]}" "$ratio" "${budget:--}" "$verdict"
done
if [ "$check" -eq 1 ]; then exit $status; fi
