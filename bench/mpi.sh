#!/usr/bin/env bash
# pyconc::mpi beside mpi4py.futures, in one run: `mpirun -n 3 --oversubscribe` of
# BUILD_DIR/bench/mpi_bench and of `python3 -m mpi4py.futures bench/python/mpi_futures.py`,
# over shared memory and over TCP loopback; prints a markdown table with the ratios.
# Usage: bench/mpi.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: bench/mpi.sh BUILD_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
reps=${PYCONC_BENCH_REPETITIONS:-5}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
exe="$build/bench/mpi_bench"
if [ ! -x "$exe" ] || ! command -v mpirun > /dev/null; then
  echo "bench/mpi.sh: $exe or mpirun is missing: MPI benchmark skipped"
  exit 0
fi
py=/usr/bin/python3
have_mpi4py=0
"$py" -c "import mpi4py.futures" 2> /dev/null && have_mpi4py=1

for btl in vader,self tcp,self; do
  ours=$(mpirun -n 3 --oversubscribe --timeout 600 --mca btl "$btl" "$exe" --repetitions "$reps")
  theirs=""
  if [ "$have_mpi4py" = 1 ]; then
    theirs=$(mpirun -n 3 --oversubscribe --timeout 600 --mca btl "$btl" \
      "$py" -m mpi4py.futures "$here/python/mpi_futures.py" --repetitions "$reps")
  fi
  echo
  echo "### pyconc::mpi vs mpi4py.futures, mpirun -n 3 --oversubscribe --mca btl $btl"
  echo
  echo "| workload | pyconc | mpi4py.futures | pyconc / mpi4py |"
  echo "|---|---|---|---|"
  get() { echo "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
  for key in MPI_SubmitBatched MPI_MapChunked MPI_SubmitOne; do
    a=$(get "$ours" $key)
    b=$(get "$theirs" $key)
    case $key in
      MPI_SubmitBatched) name="20,000 submit(noop), then results (tasks/s)"; better=higher ;;
      MPI_MapChunked) name="map(ident, 200,000, chunksize=64) (items/s)"; better=higher ;;
      MPI_SubmitOne) name="submit(noop).result() one at a time (us/task)"; better=lower ;;
    esac
    ratio="-"
    if [ -n "$b" ] && [ -n "$a" ]; then
      if [ $better = higher ]; then
        ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1fx", a / b }')
      else
        ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1fx", b / a }')
      fi
    fi
    echo "| $name | $a | ${b:-n/a} | $ratio |"
  done
  echo "| raw MPI 64-byte round trip (us) | $(get "$ours" MPI_RawRoundTrip) | | |"
  echo "| idle worker rank CPU (% of a core) | $(get "$ours" MPI_IdleWorkerCpu) | | |"
done
