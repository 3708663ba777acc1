#!/usr/bin/env python3
"""CPython's multiprocessing on the workloads of bench/multiprocessing_ipc_bench.cpp.

Prints `<Workload> <ns/op>` lines (the format bench/python/summarize.py reads), each the median
of a few repetitions, measured with the "fork" start method (Linux's default before 3.14,
and what pyconc does):
  Process_StartJoin            Process(target=f).start(); join()
  Pipe_RoundTrip               conn.send(i); conn.recv() with a forked echo process
  MpQueue_Throughput           a forked producer puts ints into Queue(maxsize=10000), we get them
  SharedValue_LockedIncrement  `with v.get_lock(): v.value += 1` here while a forked process
                               does the same (time per increment of this process)
  MpLock_Uncontended           Lock().acquire(); release()
  ManagerProxy_RoundTrip       v.get() on a Manager().Value('i', 7) proxy
  ListenerClient_RoundTrip     conn.send(i); conn.recv() on a Client connection (TCP loopback,
                               authkey) to a forked process that accept()ed it and echoes
"""

import multiprocessing as mp
from multiprocessing.connection import Client, Listener
import statistics
import sys
import time

REPS = 5


def median_ns(fn, n):
    times = []
    for _ in range(REPS):
        t0 = time.perf_counter_ns()
        fn(n)
        times.append((time.perf_counter_ns() - t0) / n)
    return statistics.median(times)


def nothing():
    pass


def process_start_join(n):
    for _ in range(n):
        p = mp.Process(target=nothing)
        p.start()
        p.join()


def echo(conn, parent_end):
    parent_end.close()  # else this child keeps the pipe open and never sees EOF
    echo_loop(conn)


def echo_loop(conn):
    while True:
        try:
            v = conn.recv()
        except EOFError:
            return
        conn.send(v)


def ping_pong(conn, n):
    """ns taken by n send/recv round trips on conn."""
    t0 = time.perf_counter_ns()
    for i in range(n):
        conn.send(i)
        conn.recv()
    return time.perf_counter_ns() - t0


def pipe_round_trip(n):
    a, b = mp.Pipe()
    p = mp.Process(target=echo, args=(b, a))
    p.start()
    b.close()
    elapsed = ping_pong(a, n)
    a.close()
    p.join()
    return elapsed


def producer(q, count):
    for i in range(count):
        q.put(i)


def queue_throughput(n):
    q = mp.Queue(10000)
    p = mp.Process(target=producer, args=(q, n))
    p.start()
    t0 = time.perf_counter_ns()
    for _ in range(n):
        q.get()
    elapsed = time.perf_counter_ns() - t0
    p.join()
    return elapsed


def incrementer(v, stop):
    while not stop.is_set():
        with v.get_lock():
            v.value += 1


def locked_increment(n):
    v = mp.Value('i', 0)
    stop = mp.Event()
    p = mp.Process(target=incrementer, args=(v, stop))
    p.start()
    t0 = time.perf_counter_ns()
    for _ in range(n):
        with v.get_lock():
            v.value += 1
    elapsed = time.perf_counter_ns() - t0
    stop.set()
    p.join()
    return elapsed


def lock_uncontended(n):
    lock = mp.Lock()
    t0 = time.perf_counter_ns()
    for _ in range(n):
        lock.acquire()
        lock.release()
    return time.perf_counter_ns() - t0


def manager_round_trip(n):
    with mp.Manager() as mgr:
        v = mgr.Value('i', 7)
        t0 = time.perf_counter_ns()
        for _ in range(n):
            v.get()
        return time.perf_counter_ns() - t0


def client_echo(address):
    with Client(address, authkey=b"bench") as c:
        echo_loop(c)


def listener_round_trip(n):
    with Listener(("127.0.0.1", 0), authkey=b"bench") as listener:
        p = mp.Process(target=client_echo, args=(listener.address,))
        p.start()
        with listener.accept() as c:
            elapsed = ping_pong(c, n)
        p.join()
        return elapsed


def timed(fn, n):
    """Median ns per operation of fn(n), which returns the elapsed ns of its timed part."""
    return statistics.median(fn(n) / n for _ in range(REPS))


def main():
    mp.set_start_method("fork")
    print(f"# python {sys.version.split()[0]} multiprocessing (fork)")
    print(f"Process_StartJoin {median_ns(process_start_join, 50):.1f}")
    print(f"Pipe_RoundTrip {timed(pipe_round_trip, 20000):.1f}")
    print(f"MpQueue_Throughput {timed(queue_throughput, 100000):.1f}")
    print(f"SharedValue_LockedIncrement {timed(locked_increment, 100000):.1f}")
    print(f"MpLock_Uncontended {timed(lock_uncontended, 1000000):.1f}")
    print(f"ManagerProxy_RoundTrip {timed(manager_round_trip, 20000):.1f}")
    print(f"ListenerClient_RoundTrip {timed(listener_round_trip, 20000):.1f}")


if __name__ == "__main__":
    main()
