"""pyconc compare -- the Python side of the seeds' I/O-bound experiment (downloading pages).

`pyconc compare` embeds this file, writes it to a temporary file and runs it with python3
against the demo web server it runs in-process (every answer is delayed, so a download is
mostly waiting, as on the Internet). It can also be run by hand against `pyconc serve`:

    pyconc serve --port 8000 --delay 20 &
    python3 compare_io.py --base-url http://127.0.0.1:8000 --pages 20

The experiment is the seeds' crawler: download the list pages /list/1 .. /list/<pages> (the
seeds: 50 cnblogs pages) and keep len(html) of each, under every model: serial, one
threading.Thread per page, ThreadPoolExecutor().map (the seeds' pool.map(craw, urls)), one
multiprocessing.Process per page, ProcessPoolExecutor(workers).submit of the download, and asyncio with one aiohttp
ClientSession and asyncio.gather. The blocking models use urllib.request (the standard
library; the seeds' requests.get(url).text is the same thing). aiohttp is not in the
standard library: without it the asyncio model is reported as skipped.

Output, one tab-separated line each, flushed as soon as known:
  python  <version>  <implementation>  <os.cpu_count()>
  lib     aiohttp  <version>                          (when aiohttp can be imported)
  model   C  <model>  <best seconds>  <runs>  <sum of the pages' lengths in UTF-8 bytes>
  error   C  <model>  <message>
  skip    C  <model>  <reason>
A run shorter than --min-time is repeated (at most --max-runs runs, until the runs add up to
--min-time) and the best time is kept; the C++ side applies the same rule.
"""

import argparse
import asyncio
import math
import multiprocessing
import os
import platform
import sys
import threading
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

try:
    import aiohttp
except ImportError:  # reported as a skipped model
    aiohttp = None

TIMEOUT = 30.0  # seconds per request (set by --timeout); no download may hang the run


def craw(url):
    """The seeds' craw(url): the page's text. Returns its length in UTF-8 bytes."""
    with urllib.request.urlopen(url, timeout=TIMEOUT) as resp:
        if resp.status != 200:
            raise RuntimeError(f"{url}: HTTP {resp.status}")
        html = resp.read().decode("utf-8", errors="replace")
    return len(html.encode("utf-8"))


def run_serial(urls, workers):
    return [craw(url) for url in urls]


def run_thread_per_task(urls, workers):
    results = [None] * len(urls)
    errors = []

    def target(i):
        try:
            results[i] = craw(urls[i])
        except Exception as exc:  # a thread's exception would only be printed: keep it
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(len(urls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def run_thread_pool_map(urls, workers):
    with ThreadPoolExecutor() as pool:
        return list(pool.map(craw, urls))


def _craw_into(queue, i, url):
    try:
        queue.put((i, craw(url), None))
    except Exception as exc:  # the parent must get one answer per process
        queue.put((i, 0, f"{type(exc).__name__}: {exc}"))


def run_process_per_task(urls, workers):
    queue = multiprocessing.SimpleQueue()
    procs = [multiprocessing.Process(target=_craw_into, args=(queue, i, url))
             for i, url in enumerate(urls)]
    for p in procs:
        p.start()
    results = [None] * len(urls)
    error = None
    for _ in urls:
        i, n, err = queue.get()
        results[i] = n
        error = error or err
    for p in procs:
        p.join()
    if error:
        raise RuntimeError(f"a download in a child process failed: {error}")
    return results


def run_process_pool_submit(urls, workers):
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(craw, url) for url in urls]
        return [f.result() for f in futures]


async def _gather_pages(urls):
    timeout = aiohttp.ClientTimeout(total=TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def async_craw(url):
            async with session.get(url) as resp:
                resp.raise_for_status()
                html = await resp.text()
            return len(html.encode("utf-8"))

        return await asyncio.gather(*(async_craw(url) for url in urls))


def run_asyncio(urls, workers):
    return asyncio.run(_gather_pages(urls))


# Keys are the row keys of tools/pyconc/models.cpp.
MODELS = [
    ("serial", run_serial),
    ("thread_per_task", run_thread_per_task),
    ("thread_pool_map", run_thread_pool_map),
    ("process_per_task", run_process_per_task),
    ("process_pool_submit", run_process_pool_submit),
    ("asyncio", run_asyncio),
]


def emit(*fields):
    line = "\t".join(str(f) for f in fields)
    print(line.replace("\n", " "), flush=True)


def measure(run, urls, workers, min_time, max_runs):
    best = math.inf
    total = 0.0
    runs = 0
    results = None
    while runs < max(1, max_runs):
        start = time.perf_counter()
        results = run(urls, workers)
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
        total += elapsed
        runs += 1
        if total >= min_time:
            break
    return best, runs, results


def usable_cpu_count():
    # What the C++ side counts (sched_getaffinity), not os.cpu_count() (the whole host).
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def main():
    global TIMEOUT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="the demo server, http://host:port")
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--workers", type=int, default=None, help="processes in the pool")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds per request")
    parser.add_argument("--min-time", type=float, default=0.25)
    parser.add_argument("--max-runs", type=int, default=5)
    parser.add_argument("--models", default=",".join(k for k, _ in MODELS))
    args = parser.parse_args()
    TIMEOUT = args.timeout

    workers = args.workers or usable_cpu_count()
    emit("python", platform.python_version(), platform.python_implementation(),
         multiprocessing.cpu_count())
    if aiohttp is not None:
        emit("lib", "aiohttp", aiohttp.__version__)

    base = args.base_url.rstrip("/")
    urls = [f"{base}/list/{page}" for page in range(1, args.pages + 1)]
    wanted = [m for m in args.models.split(",") if m]
    for key, run in MODELS:
        if key not in wanted:
            continue
        if key == "asyncio" and aiohttp is None:
            emit("skip", "C", key, f"no aiohttp in {sys.executable}")
            continue
        try:
            seconds, runs, results = measure(run, urls, workers, args.min_time, args.max_runs)
        except Exception as exc:  # reported to the tool, the other models still run
            emit("error", "C", key, f"{type(exc).__name__}: {exc}")
            continue
        emit("model", "C", key, f"{seconds:.6f}", runs, sum(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
