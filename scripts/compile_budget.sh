#!/usr/bin/env bash
# Compile-time budget of the public headers (make compile-budget; also printed by make bench).
#
# Times `$CXX -std=c++20 -O0 -c` of a translation unit holding only one include, for every
# module header and the umbrella, beside the floor: a unit holding <thread> + <future> + <mutex>
# (what any threaded C++ program already pays). Each figure is the compiler's CPU time (user +
# sys, so that other processes on a loaded machine count less than in wall time), best of
# ROUNDS; the runs are interleaved, round after round, so that a change of machine load hits
# every header alike. Absolute seconds vary; the ratio to the floor in the same run is the figure.
# With g++, a second ratio does not depend on the load at all: the memory the compiler's
# garbage-collected heap allocated for the unit (`-ftime-report`'s TOTAL), which follows the
# CPU time closely (same ratios within a few percent, measured over every module header) and
# is the same on every run -- use it to judge a change on a busy machine.
#
# Usage: scripts/compile_budget.sh [--check] [--rounds N] [--cxx g++|clang++] [--include DIR]
#   --check     exit 1 when a header is over its budget (module header <= 1.15x, umbrella <= 1.9x)
#   --include   the include directory to measure (default: this checkout's include/), e.g. an
#               older checkout's, to compare before and after in one run
#   --ratchet   no timing: each unit's GC-heap ratio to the floor (g++, deterministic) against
#               scripts/compile_budget.ratchet; exit 1 when one grew by more than 0.03 (CI runs
#               this, so a change that makes a header dearer to include is seen when it lands)
#   --write-ratchet  record the current ratios in that file (after making a header cheaper)
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
ratchet=
rounds=${ROUNDS:-3}
cxx=${CXX:-g++}
incdir=include
while [ $# -gt 0 ]; do
  case "$1" in
    --check) check=1 ;;
    --rounds) rounds=$2; shift ;;
    --cxx) cxx=$2; shift ;;
    --include) incdir=$2; shift ;;
    --ratchet) ratchet=check ;;
    --write-ratchet) ratchet=write ;;
    *) echo "usage: $0 [--check] [--rounds N] [--cxx COMPILER] [--include DIR] [--ratchet|--write-ratchet]" >&2; exit 2 ;;
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

# The compiler's GC heap in MB (g++ only; "-" otherwise): deterministic.
ggc_mb() {
  "$cxx" -std=c++20 -O0 "-I$incdir" -ftime-report -c "$1" -o "$1.o" 2>&1 |
    awk '/^ *TOTAL/ { v = $NF; u = substr(v, length(v)); n = substr(v, 1, length(v) - 1);
                      if (u == "k") n /= 1024; else if (u == "G") n *= 1024; found = 1 }
         END { if (found) printf "%.1f", n; else print "-" }'
}
if [ -n "$ratchet" ]; then
  file=scripts/compile_budget.ratchet
  case "$cxx" in *g++*) ;; *) echo "compile_budget.sh: --ratchet needs g++" >&2; exit 2 ;; esac
  floor_mb=$(ggc_mb "$tmp/u0.cpp")
  [ "$ratchet" = write ] && printf '# GC-heap ratio to the floor per unit (scripts/compile_budget.sh --write-ratchet)\n' >"$file"
  status=0
  printf '%-34s %8s %8s %8s  %s\n' "include (g++ GC heap)" "MB" "x floor" recorded verdict
  for i in "${!units[@]}"; do
    [ "$i" -eq 0 ] && continue
    IFS='|' read -r name _ _ <<<"${units[$i]}"
    key=${name%% *}
    mb=$(ggc_mb "$tmp/u$i.cpp")
    ratio=$(echo "$mb $floor_mb" | awk '{printf "%.2f", $1 / $2}')
    if [ "$ratchet" = write ]; then
      echo "$key $ratio" >>"$file"
      printf '%-34s %8s %8s %8s  %s\n' "$name" "$mb" "$ratio" "$ratio" written
      continue
    fi
    rec=$(awk -v k="$key" '$1 == k { print $2 }' "$file")
    verdict=ok
    if [ -z "$rec" ]; then
      verdict="not recorded"
    elif awk -v r="$ratio" -v c="$rec" 'BEGIN { exit !(r > c + 0.03) }'; then
      verdict="GREW (was ${rec}x): a public header now includes more; see docs/benchmarks.md#compile-budget"
      status=1
    fi
    printf '%-34s %8s %8s %8s  %s\n' "$name" "$mb" "$ratio" "${rec:--}" "$verdict"
  done
  exit $status
fi

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

declare -a mem
for i in "${!units[@]}"; do
  mem[$i]=-
  case "$cxx" in *g++*) mem[$i]=$(ggc_mb "$tmp/u$i.cpp") ;; esac
done

floor=${best[0]}
status=0
printf '%-34s %8s %8s %8s  %-7s %8s %8s\n' "include ($cxx, CPU s, best of $rounds)" seconds "x floor" budget verdict "GC MB" "x floor"
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
  mratio=-
  if [ "${mem[$i]}" != - ] && [ "${mem[0]}" != - ]; then
    mratio=$(echo "${mem[$i]} ${mem[0]}" | awk '{printf "%.2f", $1 / $2}')
  fi
  printf '%-34s %8.2f %8s %8s  %-7s %8s %8s\n' "$name" "${best[$i]}" "$ratio" "${budget:--}" "$verdict" \
    "${mem[$i]}" "$mratio"
done
if [ "$check" -eq 1 ]; then exit $status; fi
