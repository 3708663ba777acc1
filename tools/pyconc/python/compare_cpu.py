"""pyconc compare -- the Python side of the seeds' CPU-bound experiments.

`pyconc compare` embeds this file, writes it to a temporary file and runs it with python3,
so the same workloads are timed in Python and in C++ on the same machine in the same run.
It can also be run by hand:

    python3 compare_cpu.py --prime-tasks 4 --sum-base 1000000 --sum-tasks 20

The workloads are the seeds' code, unchanged:
  A: is_prime(112272535095293) for each of [112272535095293] * prime_tasks
  B: cpu_bound(number) = sum(i * i for i in range(number)) for [sum_base + x for x in range(sum_tasks)]
and each runs under every model: serial, one threading.Thread per task, ThreadPoolExecutor()
through submit (then each result() in order) and through map, one multiprocessing.Process per
task (results through a SimpleQueue), ProcessPoolExecutor(workers).map and
multiprocessing.Pool(workers).map. Creating the threads or the pool is inside the timed
region, as in the seeds. (The seeds' own 0.11 s for ProcessPoolExecutor was a crash in
Jupyter -- its workers could not import is_prime -- not a result.)

Output, one tab-separated line each, flushed as soon as known (the tool shows progress):
  python  <version>  <implementation>  <os.cpu_count()>
  value   <A|B>  <task index>  <int(result)>            (from the serial run)
  model   <A|B>  <model>  <best seconds>  <runs>  <sum(int(r) for r in results)>
  error   <A|B>  <model>  <message>
A run shorter than --min-time is repeated (at most --max-runs runs, until the runs add up to
--min-time) and the best time is kept; the C++ side applies the same rule.
"""

import argparse
import math
import multiprocessing
import os
import platform
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor


def is_prime(n):
    if n < 2:
        return False
    if n == 2:
        return True
    if n % 2 == 0:
        return False
    sqrt_n = int(math.floor(math.sqrt(n)))
    for i in range(3, sqrt_n + 1, 2):
        if n % i == 0:
            return False
    return True


def cpu_bound(number):
    return sum(i * i for i in range(number))


def run_serial(fn, inputs, workers):
    return [fn(x) for x in inputs]


def run_thread_per_task(fn, inputs, workers):
    results = [None] * len(inputs)

    def target(i):
        results[i] = fn(inputs[i])

    threads = [threading.Thread(target=target, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def run_thread_pool(fn, inputs, workers):
    with ThreadPoolExecutor() as pool:
        futures = [pool.submit(fn, x) for x in inputs]
        return [f.result() for f in futures]


def run_thread_pool_map(fn, inputs, workers):
    with ThreadPoolExecutor() as pool:
        return list(pool.map(fn, inputs))


def _put_result(queue, fn, i, x):
    queue.put((i, fn(x)))


def run_process_per_task(fn, inputs, workers):
    queue = multiprocessing.SimpleQueue()
    procs = [multiprocessing.Process(target=_put_result, args=(queue, fn, i, x))
             for i, x in enumerate(inputs)]
    for p in procs:
        p.start()
    results = [None] * len(inputs)
    for _ in inputs:
        i, r = queue.get()
        results[i] = r
    for p in procs:
        p.join()
    return results


def run_process_pool(fn, inputs, workers):
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, inputs))


def run_mp_pool(fn, inputs, workers):
    with multiprocessing.Pool(workers) as pool:
        return pool.map(fn, inputs)


def run_mpi_pool(fn, inputs, workers):
    # mpi4py.futures: workers spawned with MPI_Comm_spawn, as pyconc::mpi::MPIPoolExecutor's.
    # Imported here, so that MPI starts only after the fork-based models have run.
    from mpi4py.futures import MPIPoolExecutor

    with MPIPoolExecutor(max_workers=workers, mpi_info={"map_by": ":OVERSUBSCRIBE"}) as pool:
        return list(pool.map(fn, inputs))


def have_mpi4py():
    try:
        import importlib.util

        return importlib.util.find_spec("mpi4py") is not None
    except (ImportError, ValueError):
        return False


# Keys are the row keys of tools/pyconc/models.cpp.
MODELS = [
    ("serial", run_serial),
    ("thread_per_task", run_thread_per_task),
    ("thread_pool", run_thread_pool),
    ("thread_pool_map", run_thread_pool_map),
    ("process_per_task", run_process_per_task),
    ("process_pool", run_process_pool),
    ("mp_pool", run_mp_pool),
] + ([("mpi_pool", run_mpi_pool)] if have_mpi4py() else [])


def emit(*fields):
    line = "\t".join(str(f) for f in fields)
    print(line.replace("\n", " "), flush=True)


def measure(run, fn, inputs, workers, min_time, max_runs):
    best = math.inf
    total = 0.0
    runs = 0
    results = None
    while runs < max(1, max_runs):
        start = time.perf_counter()
        results = run(fn, inputs, workers)
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
        total += elapsed
        runs += 1
        if total >= min_time:
            break
    return best, runs, results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prime", type=int, default=112272535095293)
    parser.add_argument("--prime-tasks", type=int, default=100)
    parser.add_argument("--sum-base", type=int, default=10_000_000)
    parser.add_argument("--sum-tasks", type=int, default=20)
    parser.add_argument("--workers", type=int, default=None, help="processes in the pools")
    parser.add_argument("--min-time", type=float, default=0.25)
    parser.add_argument("--max-runs", type=int, default=5)
    parser.add_argument("--models", default=",".join(k for k, _ in MODELS))
    args = parser.parse_args()

    workers = args.workers or usable_cpu_count()
    emit("python", platform.python_version(), platform.python_implementation(),
         multiprocessing.cpu_count())

    workloads = [
        ("A", is_prime, [args.prime] * args.prime_tasks),
        ("B", cpu_bound, [args.sum_base + x for x in range(args.sum_tasks)]),
    ]
    wanted = [m for m in args.models.split(",") if m]
    for wid, fn, inputs in workloads:
        if not inputs:
            continue
        for key, run in MODELS:
            if key not in wanted:
                continue
            try:
                seconds, runs, results = measure(run, fn, inputs, workers, args.min_time,
                                                 args.max_runs)
            except Exception as exc:  # reported to the tool, the other models still run
                emit("error", wid, key, f"{type(exc).__name__}: {exc}")
                continue
            if key == "serial":
                for i, r in enumerate(results):
                    emit("value", wid, i, int(r))
            emit("model", wid, key, f"{seconds:.6f}", runs, sum(int(r) for r in results))
    return 0


def usable_cpu_count():
    # What the C++ side counts (sched_getaffinity), not os.cpu_count() (the whole host).
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
