#!/usr/bin/env python3
"""CPython's figures for the workloads of bench/threading_bench.cpp and bench/queue_bench.cpp.

Each workload is written the obvious Python way. As in the C++ benchmarks, single-thread
workloads are timed in the thread's CPU time (time.thread_time: immune to other processes
taking the core on a shared machine) and multi-thread ones in wall-clock time
(time.perf_counter). The iteration count is grown until one run lasts long enough, then the
run is repeated and the median kept. Output: one line per workload, named as in the C++
benchmarks without "BM_":

    # python 3.11.2
    Lock_Uncontended 101.3
    ...

where the number is nanoseconds per operation (per round trip for the ping-pongs; for the
contended workloads, wall time divided by the operations of all threads together).
Usage: threading_queue.py [--min-time SECONDS] [--repetitions N]
"""

import argparse
import queue
import statistics
import sys
import threading
import time


def measure(run, min_time, repetitions):
    """run(n) performs n operations and returns the seconds they took; returns ns per op."""
    n = 16
    while True:
        elapsed = run(n)
        if elapsed >= min_time / 4:
            break
        n *= 4 if elapsed < min_time / 40 else 2
    n = max(1, int(n * min_time / elapsed))
    return statistics.median(run(n) / n for _ in range(repetitions)) * 1e9


# --- Uncontended acquire + release -----------------------------------------------------------

def uncontended(make):
    def run(n):
        lock = make()
        start = time.thread_time()
        for _ in range(n):
            with lock:
                pass
        return time.thread_time() - start
    return run


# --- Contended: `threads` threads increment one counter under one Lock -------------------------

def contended(threads):
    def run(n):
        lock = threading.Lock()
        counter = [0]
        per_thread = max(1, n // threads)
        ready = threading.Barrier(threads + 1)

        def work():
            ready.wait()
            for _ in range(per_thread):
                with lock:
                    counter[0] += 1

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for w in workers:
            w.start()
        ready.wait()
        start = time.perf_counter()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - start
        assert counter[0] == per_thread * threads
        return elapsed * n / (per_thread * threads)
    return run


# --- Ping-pong between two threads ----------------------------------------------------------
# `busy` as in the C++ benchmarks: that many CPU-bound threads run meanwhile (in CPython they
# compete with the ping-pong threads for the GIL, not only for the cores).

class EventPair:
    def __init__(self):
        self.e1, self.e2 = threading.Event(), threading.Event()
        self.stop = False
        self.partner = threading.Thread(target=self.serve)
        self.partner.start()

    def serve(self):
        while True:
            self.e1.wait()
            if self.stop:
                return
            self.e1.clear()
            self.e2.set()

    def round_trip(self):
        self.e1.set()
        self.e2.wait()
        self.e2.clear()

    def close(self):
        self.stop = True
        self.e1.set()
        self.partner.join()


class QueuePair:
    def __init__(self):
        self.q1, self.q2 = queue.Queue(), queue.Queue()
        self.next = 0
        self.partner = threading.Thread(target=self.serve)
        self.partner.start()

    def serve(self):
        while True:
            v = self.q1.get()
            if v < 0:
                return
            self.q2.put(v + 1)

    def round_trip(self):
        self.q1.put(self.next)
        self.next = self.q2.get()

    def close(self):
        self.q1.put(-1)
        self.partner.join()


def ping_pong(make_pair, busy):
    def run(n):
        stop = threading.Event()

        def compute():
            x = 0
            while not stop.is_set():
                for _ in range(1000):
                    x += 1

        hogs = [threading.Thread(target=compute) for _ in range(busy)]
        for t in hogs:
            t.start()
        pair = make_pair()
        start = time.perf_counter()
        for _ in range(n):
            pair.round_trip()
        elapsed = time.perf_counter() - start
        pair.close()
        stop.set()
        for t in hogs:
            t.join()
        return elapsed
    return run


def queue_put_get(n):
    q = queue.Queue()
    start = time.thread_time()
    for i in range(n):
        q.put(i)
        q.get()
    return time.thread_time() - start


WORKLOADS = [
    ("Lock_Uncontended", uncontended(threading.Lock)),
    ("RLock_Uncontended", uncontended(threading.RLock)),
    ("Semaphore_Uncontended", uncontended(lambda: threading.Semaphore(1))),
    ("Lock_Contended/threads:2", contended(2)),
    ("Lock_Contended/threads:4", contended(4)),
    ("Event_PingPong", ping_pong(EventPair, 0)),
    ("Event_PingPong/busy:2", ping_pong(EventPair, 2)),
    ("Queue_PutGet", queue_put_get),
    ("Queue_PingPong", ping_pong(QueuePair, 0)),
    ("Queue_PingPong/busy:2", ping_pong(QueuePair, 2)),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per timed run")
    parser.add_argument("--repetitions", type=int, default=3)
    args = parser.parse_args()
    print(f"# python {sys.version.split()[0]}", flush=True)
    for name, run in WORKLOADS:
        ns = measure(run, args.min_time, args.repetitions)
        print(f"{name} {ns:.1f}", flush=True)


if __name__ == "__main__":
    main()
