#!/usr/bin/env python3
"""mpi4py.futures' figures for the workloads of bench/mpi_bench.cpp.

Run on the ranks of a job, the way mpi4py.futures documents it:
    mpirun -n 3 python3 -m mpi4py.futures bench/python/mpi_futures.py [--repetitions N]
Rank 0 runs this script with an MPIPoolExecutor over the other ranks (MPICommExecutor-style
worker ranks). Output lines (median of the repetitions):

    MPI_SubmitBatched <tasks/s>   20,000 executor.submit(noop), then every result
    MPI_MapChunked <items/s>      executor.map(ident, range(200,000), chunksize=64)
    MPI_SubmitOne <us/task>       executor.submit(noop).result(), one at a time (500)
"""

import argparse
import statistics
import time

from mpi4py.futures import MPIPoolExecutor


def noop():
    return None


def ident(x):
    return x


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()
    batched, chunked, one = [], [], []
    with MPIPoolExecutor() as ex:
        ex.submit(noop).result()  # workers up
        items = range(200_000)
        for _ in range(args.repetitions):
            t0 = time.perf_counter()
            fs = [ex.submit(noop) for _ in range(20_000)]
            for f in fs:
                f.result()
            batched.append(20_000 / (time.perf_counter() - t0))

            t0 = time.perf_counter()
            total = sum(ex.map(ident, items, chunksize=64))
            chunked.append(len(items) / (time.perf_counter() - t0))
            assert total == 19_999_900_000

            t0 = time.perf_counter()
            for _ in range(500):
                ex.submit(noop).result()
            one.append((time.perf_counter() - t0) * 1e6 / 500)
    print(f"MPI_SubmitBatched {statistics.median(batched):.0f}")
    print(f"MPI_MapChunked {statistics.median(chunked):.0f}")
    print(f"MPI_SubmitOne {statistics.median(one):.2f}", flush=True)


if __name__ == "__main__":
    main()
