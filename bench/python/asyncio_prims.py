#!/usr/bin/env python3
"""CPython's figures for the workloads of bench/asyncio_prims_bench.cpp, on asyncio's own event
loop and on uvloop's.

Each workload is written the obvious asyncio way and timed, like the C++ side, in the thread's
CPU time (time.thread_time) inside one coroutine; the iteration count is grown until one run is
long enough, then the run is repeated and the median kept (measure() of threading_queue.py).
Output: one line per workload and loop, named as in the C++ benchmarks without "BM_", with
"@uvloop" appended for uvloop's figures:

    # python 3.11.2, uvloop 0.17.0
    AsyncQueue_PingPong 16100.0
    AsyncQueue_PingPong@uvloop 9000.0
    ...

where the number is nanoseconds per operation (per round trip for the ping-pong). Without
uvloop installed only asyncio's lines are printed.
Usage: asyncio_prims.py [--min-time SECONDS] [--repetitions N]
"""

import argparse
import asyncio
import sys
import time

from threading_queue import measure

try:
    import uvloop
except ImportError:  # the asyncio figures alone
    uvloop = None


async def queue_ping_pong(n):
    ping, pong = asyncio.Queue(), asyncio.Queue()

    async def partner():
        while True:
            v = await ping.get()
            if v < 0:
                return
            await pong.put(v + 1)

    task = asyncio.create_task(partner())
    nxt = 0
    start = time.thread_time()
    for _ in range(n):
        await ping.put(nxt)
        nxt = await pong.get()
    elapsed = time.thread_time() - start
    await ping.put(-1)
    await task
    assert nxt == n
    return elapsed


async def lock_uncontended(n):
    lock = asyncio.Lock()
    start = time.thread_time()
    for _ in range(n):
        async with lock:
            pass
    return time.thread_time() - start


WORKLOADS = [
    ("AsyncQueue_PingPong", queue_ping_pong),
    ("AsyncLock_Uncontended", lock_uncontended),
]


def on_loop(new_loop, coro_fn):
    """run(n) for measure(): runs coro_fn(n) on a fresh loop made by new_loop()."""
    def run(n):
        loop = new_loop()
        try:
            return loop.run_until_complete(coro_fn(n))
        finally:
            loop.close()
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per timed run")
    parser.add_argument("--repetitions", type=int, default=3)
    args = parser.parse_args()
    loops = [("", asyncio.new_event_loop)]
    version = f"# python {sys.version.split()[0]}"
    if uvloop is not None:
        loops.append(("@uvloop", uvloop.new_event_loop))
        version += f", uvloop {uvloop.__version__}"
    print(version, flush=True)
    for name, coro_fn in WORKLOADS:
        for suffix, new_loop in loops:
            ns = measure(on_loop(new_loop, coro_fn), args.min_time, args.repetitions)
            print(f"{name}{suffix} {ns:.1f}", flush=True)


if __name__ == "__main__":
    main()
