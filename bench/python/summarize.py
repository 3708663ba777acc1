#!/usr/bin/env python3
"""Summary table of `make bench`: pyconc beside its C++ peers and CPython, per workload.

Inputs: the Google Benchmark JSON files (--benchmark_out) of the bench/*_bench binaries, whose
benchmarks are named BM_<Workload>/<impl>[/real_time][/threads:N], and the output of the
bench/python/*.py scripts (`<Workload> <ns/op>` lines). Within a JSON file the median of
bench/python/*.py scripts (`<Workload> <ns/op>` lines; `<Workload>@<loop> <ns/op>` is CPython on
another event loop, such as uvloop, listed as a peer named cpython_<loop>). Within a JSON file the median of
the repetitions is used when there are repetitions; the time is the one Google Benchmark
reports (wall-clock for benchmarks named /real_time, the thread's CPU time otherwise).

Prints a Markdown table: one row per (workload, C++ peer), with pyconc's ns/op, the peer's,
their ratio (< 1: pyconc is faster), CPython's ns/op, pyconc's speed-up over CPython and,
on the row the target refers to, the target with PASS or MISS.

Usage: summarize.py [--python FILE] [--title TEXT] BENCH.json...
"""

import argparse
import json
import re
import sys

# Workloads in display order: (main C++ peer, target). The main peer is listed first; the
# target is one of
#   ("peer", max_ratio): pyconc's time at most max_ratio x the main peer's, in the same run;
#   ("python", min_speedup): pyconc at least min_speedup x faster than CPython, same run.
WORKLOADS = {
    # HTTP client (bench/aiohttp_client_bench.cpp, its own table: bench/aiohttp_client.sh): per
    # request against a local nginx, 32 connections; the peer is libcurl's own loop
    # (curl_multi_poll), so the ratio is what driving libcurl from our event loop costs.
    "Http_GetSmall": ("libcurl_multi", ("peer", 1.2)),
    "Http_Get64K": ("libcurl_multi", ("peer", 1.2)),
    "Lock_Uncontended": ("std_mutex", ("peer", 1.2)),
    "RLock_Uncontended": ("std_recursive_mutex", ("peer", 1.2)),
    "Semaphore_Uncontended": ("std_counting_semaphore", ("peer", 1.2)),
    "Lock_Contended/threads:2": ("std_mutex", ("peer", 1.2)),
    "Lock_Contended/threads:4": ("std_mutex", ("peer", 1.2)),
    "Event_PingPong": ("std_condvar", ("peer", 1.2)),
    "Event_PingPong/busy:2": ("std_condvar", ("peer", 1.2)),
    "Queue_PutGet": ("std_mutex_deque", ("peer", 1.2)),
    "Queue_PingPong": ("std_mutex_deque", ("python", 50.0)),
    "Queue_PingPong/busy:2": ("std_mutex_deque", ("peer", 1.2)),
    # concurrent.futures (bench/futures_bench.cpp): per task, 2 workers.
    "Pool_SubmitBatched": ("tbb_task_group", ("peer", 1.0)),
    "Pool_SubmitOne": ("asio_promise", ("peer", 1.0)),
    "Pool_Map": ("pyconc_chunksize64", (None, None)),  # no target: for information
    # the seeds' is_prime x 20 on a 2-worker pool vs serial: a ratio <= 0.556 is >= 1.8x
    "Pool_IsPrime": ("serial", ("peer", 0.556)),
    # asyncio core (bench/asyncio_bench.cpp): per task / per yield, one loop thread
    "Aio_GatherTasks": ("asio_coroutines", ("python", 50.0)),
    "Aio_Sleep0": ("asio_coroutines", ("python", 50.0)),
    "Aio_SleepingTasks": ("asio_coroutines", (None, None)),  # creation cost; memory below
    # HTTP request parsing (bench/aiohttp_bench.cpp): per request; llhttp alone is the floor
    # any llhttp-based server pays, the target bounds what the limits and checks add to it.
    "HttpParse_Get300": ("llhttp_raw", ("peer", 2.0)),
    "HttpParse_Pipelined16": ("llhttp_raw", ("peer", 2.0)),
    "HttpParse_PostChunked": ("llhttp_raw", (None, None)),
    # subprocess (bench/subprocess_bench.cpp): wall time per run, beside the bare system calls.
    "Run_True": ("posix_spawn", ("peer", 1.2)),
    "Run_Cat1MiB": ("posix_spawn", ("peer", 1.2)),
    # asyncio streams (bench/asyncio_echo_bench.cpp): time per echo request, 100 connections,
    # every server driven by the same load generator; the CPython servers are peers there.
    # A ratio <= 0.5 against uvloop is >= 2x its requests/s.
    "Echo/conns:100/bytes:64": ("uvloop", ("peer", 0.5)),
    "Echo/conns:100/bytes:4096": ("uvloop", ("peer", 0.5)),
    # WebSockets (bench/websocket_echo_bench.cpp): time per echoed message, 100 connections, the
    # same load generator for our server, aiohttp (asyncio and uvloop) and python3-websockets.
    # A ratio <= 0.2 against aiohttp on uvloop is >= 5x its messages/s (issue 13's target).
    "WsEcho/conns:100/bytes:64": ("aiohttp_uvloop", ("peer", 0.2)),
    "WsEcho/conns:100/bytes:4096": ("aiohttp_uvloop", ("peer", 0.2)),
    # asyncio primitives (bench/asyncio_prims_bench.cpp): the peer is CPython on uvloop
    # (bench/python/asyncio_prims.py), the target is against CPython's own asyncio loop.
    "AsyncQueue_PingPong": ("cpython_uvloop", ("python", 50.0)),
    "AsyncLock_Uncontended": ("cpython_uvloop", (None, None)),  # no target: for information
    "Run_True_ParentCPU": ("posix_spawn", (None, None)),  # the parent's own CPU time per run
    "Run_Cat1MiB_ParentCPU": ("posix_spawn", (None, None)),
    # process pools (bench/multiprocessing_bench.cpp): 2 worker processes.
    "ProcPool_SubmitBatched": (None, ("python", 20.0)),
    "ProcPool_SubmitOne": ("raw_pipe", ("peer", 2.0)),
    "ProcPool_Map": (None, (None, None)),
    "ProcPool_MapChunked": (None, (None, None)),
    "MpPool_Map": (None, (None, None)),
    "MpPool_ApplyAsync": (None, (None, None)),
    "Process_Start": ("fork_exit", (None, None)),
    "ProcPool_IsPrime": ("serial", ("peer", 0.556)),
    # multiprocessing (bench/multiprocessing_ipc_bench.cpp): the peers are the bare kernel
    # mechanisms; a Pipe round trip within 2x of a raw pipe's.
    "Process_StartJoin": ("fork_waitpid", ("peer", 2.0)),
    "Pipe_RoundTrip": ("raw_pipe", ("peer", 2.0)),
    "MpQueue_Throughput": ("raw_pipe", ("python", 20.0)),
    "SharedValue_LockedIncrement": ("pthread_mutex", ("peer", 2.0)),
    "MpLock_Uncontended": ("threading_lock", (None, None)),  # the price of robustness
    # A Manager proxy call and a Listener/Client message: round trips, like Pipe's.
    "ManagerProxy_RoundTrip": ("raw_socket", ("peer", 3.0)),
    "ListenerClient_RoundTrip": ("raw_tcp", ("peer", 2.0)),
}

MEMORY = {}  # workload -> {impl: (rss bytes per task, heap bytes per task)}
MEMORY_TARGET = {"Aio_SleepingTasks": 512}

IDLE = {}  # workload -> [CPU percent of one core used while idle] (bench/futures_bench.cpp)
SERVER_CPU = {}  # workload -> {impl: server CPU µs per request} (bench/*echo_bench.cpp)

TO_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def split_name(run_name):
    """BM_Lock_Contended/pyconc/real_time/threads:2 -> ("Lock_Contended/threads:2", "pyconc").

    Arguments (busy:2, threads:4) stay in the workload's name, except the defaults busy:0 and
    threads:1 (BM_Event_PingPong/pyconc/busy:0/real_time -> "Event_PingPong")."""
    parts = run_name.split("/")
    workload = parts[0][3:] if parts[0].startswith("BM_") else parts[0]
    impl = parts[1] if len(parts) > 1 else "?"
    for p in parts[2:]:
        if p not in ("real_time", "manual_time", "threads:1") and not p.endswith(":0") \
                and not p.startswith("iterations:"):
            workload += "/" + p
    return workload, impl


def load_benchmarks(paths):
    """{workload: {impl: ns_per_op}} from Google Benchmark JSON files."""
    medians, plain = {}, {}
    for path in paths:
        with open(path) as f:
            text = f.read()
        if not text.strip():  # the binary ran no benchmark (e.g. nothing matched a filter)
            continue
        data = json.loads(text)
        for b in data.get("benchmarks", []):
            if b.get("error_occurred"):
                continue
            key = split_name(b.get("run_name", b["name"]))
            wall = "/real_time" in b["name"] or "/manual_time" in b["name"]
            time_field = "real_time" if wall else "cpu_time"
            if "cpu_percent" in b:  # the idle-pool measurement: a counter, not a time
                name = split_name(b.get("run_name", b["name"]))[0]
                if b.get("run_type") != "aggregate" or b.get("aggregate_name") == "max" \
                        or b.get("aggregate_name") == "median":
                    IDLE.setdefault(name, []).append(b["cpu_percent"])
                continue
            if "rss_per_task" in b and (b.get("run_type") != "aggregate"
                                        or b.get("aggregate_name") == "median"):
                name, impl = split_name(b.get("run_name", b["name"]))
                MEMORY.setdefault(name, {})[impl] = (b["rss_per_task"], b.get("heap_per_task"))
            if "server_cpu_us_per_req" in b and (b.get("run_type") != "aggregate"
                                                 or b.get("aggregate_name") == "median"):
                SERVER_CPU.setdefault(key[0], {})[key[1]] = b["server_cpu_us_per_req"]
            ns = b[time_field] * TO_NS[b.get("time_unit", "ns")]
            ns /= b.get("items_per_iteration") or 1  # iterations that process a batch
            if b.get("run_type") == "aggregate":
                if b.get("aggregate_name") == "median":
                    medians[key] = ns
            else:
                plain.setdefault(key, []).append(ns)
    result = {}
    for key in set(medians) | set(plain):
        if key in medians:
            ns = medians[key]
        else:
            values = sorted(plain[key])
            ns = values[len(values) // 2]
        result.setdefault(key[0], {})[key[1]] = ns
    return result


PY_NOTES = []  # "# ..." lines of the Python scripts worth repeating (memory figures)


def load_python(path):
    """({workload: ns}, {workload: ns}, {workload: {"cpython_<loop>": ns}}, version) from the
    Python scripts' output: CPython on its default loop; CPython on uvloop (a line
    `<Workload>@uvloop <ns>`, shown in the uvloop column); and CPython on any other loop given
    as `<Workload>@<loop> <ns>` (also uvloop), used as a peer where WORKLOADS names such a peer."""
    figures, uv, peers, version = {}, {}, {}, "?"
    if not path:
        return figures, uv, peers, version
    with open(path) as f:
        for line in f:
            line = line.strip()
            m = re.match(r"# python ([^\s,]+)", line)
            if m:
                version = m.group(1)
            elif line.startswith("#") and "memory" in line:
                PY_NOTES.append(line[1:].strip())
            elif line and not line.startswith("#"):
                name, ns = line.split()
                if "@" in name:
                    workload, loop = name.split("@", 1)
                    peers.setdefault(workload, {})["cpython_" + loop] = float(ns)
                    if loop == "uvloop":
                        uv[workload] = float(ns)
                else:
                    figures[name] = float(ns)
    return figures, uv, peers, version


def fmt_ns(ns):
    if ns is None:
        return "--"
    if ns >= 10000:
        return f"{ns / 1000:,.1f} µs"
    return f"{ns:,.1f} ns" if ns < 100 else f"{ns:,.0f} ns"


def fmt_x(x):
    if x is None:
        return "--"
    if x < 0.1:
        return f"{x:.3f}×"
    return f"{x:.2f}×" if x < 10 else f"{x:,.0f}×"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json", nargs="+", help="Google Benchmark JSON output files")
    ap.add_argument("--python", help="output of the bench/python/*.py scripts")
    ap.add_argument("--title", default="", help="a line printed above the table")
    args = ap.parse_args()

    bench = load_benchmarks(args.json)
    python, uvloop, python_peers, py_version = load_python(args.python)
    for workload, impls in python_peers.items():
        main_peer = WORKLOADS.get(workload, (None, None))[0] or ""
        # Only beside a C++ figure that was run, and where the main peer is CPython on a loop.
        if workload in bench and main_peer.startswith("cpython_"):
            bench[workload].update(impls)
            uvloop.pop(workload, None)  # shown as a peer, not again in the uvloop column

    order = list(WORKLOADS) + sorted(w for w in bench if w not in WORKLOADS)
    rows = []
    misses = 0
    for workload in order:
        impls = bench.get(workload, {})
        if not impls:  # not run (a filter), or not a C++ workload
            continue
        ours = impls.get("pyconc")
        uv = uvloop.get(workload)
        # CPython measured inside a C++ benchmark (its servers driven by the C++ load generator)
        # goes in the Python column.
        py = python.get(workload) or impls.get("python_asyncio")
        speedup = py / ours if (py and ours) else None
        uv_speedup = uv / ours if (uv and ours) else None
        main_peer, (kind, bound) = WORKLOADS.get(workload, (None, (None, None)))
        peers = [i for i in impls if i not in ("pyconc", "python_asyncio")]
        peers.sort(key=lambda i: (i != main_peer, i))  # the main peer first
        for idx, peer in enumerate(peers or [None]):
            peer_ns = impls.get(peer) if peer else None
            ratio = ours / peer_ns if (ours and peer_ns) else None
            target = verdict = ""
            if kind == "peer" and peer == main_peer:
                target = f"≤ {bound:g}× {peer}"
                ok = ratio is not None and ratio <= bound
                verdict = "PASS" if ok else "MISS"
            elif kind == "python" and idx == 0:
                target = f"≥ {bound:g}× faster than Python"
                ok = speedup is not None and speedup >= bound
                verdict = "PASS" if ok else "MISS"
            misses += verdict == "MISS"
            first = idx == 0
            rows.append([
                workload if first else "",
                fmt_ns(ours) if first else "",
                peer or "--",
                fmt_ns(peer_ns),
                fmt_x(ratio),
                fmt_ns(py) if first else "",
                fmt_x(speedup) if first else "",
                fmt_ns(uv) if first and uv else "",
                fmt_x(uv_speedup) if first and uv else "",
                target,
                verdict,
            ])

    header = ["workload", "pyconc", "C++ peer", "peer", "pyconc/peer", "Python",
              "speed-up vs Python", "uvloop", "vs uvloop", "target", "result"]
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]

    def line(cells):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"

    if args.title:
        print(args.title)
        print()
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))
    print()
    print(f"Times are per operation (per round trip for ping-pongs), medians of the repetitions; "
          f"pyconc/peer < 1 means pyconc is faster. Python: CPython {py_version}.")
    for workload, impls in SERVER_CPU.items():
        figures = ", ".join(f"{impl} {us:.2f} µs" for impl, us in
                            sorted(impls.items(), key=lambda kv: kv[1]))
        print(f"{workload}: server CPU per request (unaffected by other load): {figures}")
    for workload, values in IDLE.items():
        pct = max(values)  # the worst repetition (or the median, with aggregates only)
        ok = pct < 1.0
        misses += not ok
        print(f"{workload}: 10 idle workers used {pct:.4f}% of one core (target < 1%): "
              f"{'PASS' if ok else 'MISS'}")
    for workload, impls in MEMORY.items():
        bound = MEMORY_TARGET.get(workload)
        for impl, (rss, heap) in sorted(impls.items(), key=lambda kv: kv[0] != "pyconc"):
            line_ = f"{workload} memory, {impl}: {rss:.0f} B per task (RSS), {heap:.0f} B heap"
            if impl == "pyconc" and bound:
                ok = rss <= bound
                misses += not ok
                line_ += f" (target ≤ {bound} B): {'PASS' if ok else 'MISS'}"
            print(line_)
    for note in PY_NOTES:
        print(f"CPython {note}")
    print(f"Targets missed: {misses}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
