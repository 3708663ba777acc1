#!/usr/bin/env python3
"""Layering check (ARCHITECTURE.md decision 12): reads every #include of the library, the demo
support target and the tool, and fails on

  1. an include that runs upward: a module may include only its own files and those of lower
     layers, in the order  core -> contextvars -> threading -> queue -> futures -> subprocess ->
     multiprocessing -> asyncio -> aiohttp -> mpi -> demo -> tools
     (core = errors.hpp, future.hpp, generator.hpp, version.hpp and pyconc/detail/);
  2. a reach into another module's internals: pyconc/<module>/detail/ is for <module> alone,
     except the few entries of ALLOWED_DETAIL below, each with its reason.

The umbrella pyconc/pyconc.hpp may include every module. Tests, examples, benchmarks and fuzz
targets sit above everything and may include what they test. Usage: scripts/check_layering.py
[ROOT]; exit status 1 with one line per violation, 0 when the graph is clean.
"""
import os
import re
import sys

LAYERS = ["core", "contextvars", "threading", "queue", "futures", "subprocess", "multiprocessing", "asyncio",
          "aiohttp", "mpi", "demo", "tools"]
RANK = {name: i for i, name in enumerate(LAYERS)}
CORE_HEADERS = {"errors.hpp", "future.hpp", "generator.hpp", "version.hpp"}

# (including module, included module's detail header) -> why it is allowed.
ALLOWED_DETAIL = {
    # The asyncio extension points a higher layer needs to write its own awaitables on the
    # loop: the task's suspension point, the reactor registration and the fd handle.
    ("aiohttp", "pyconc/asyncio/detail/task_core.hpp"): "awaiters of the HTTP layer",
    ("aiohttp", "pyconc/asyncio/detail/reactor.hpp"): "libcurl's sockets on the loop's reactor",
    ("aiohttp", "pyconc/asyncio/detail/io_handle.hpp"): "libcurl's sockets on the loop's reactor",
    ("aiohttp", "pyconc/asyncio/detail/socket.hpp"): "the server's listening sockets",
    # The web server's HTTPS connections run on asyncio's one TLS layer (OpenSSL on memory
    # BIOs) rather than a second one; its decrypted input waits in a ByteBuffer.
    ("aiohttp", "pyconc/asyncio/detail/tls.hpp"): "one TLS layer for streams and the web server",
    ("aiohttp", "pyconc/asyncio/detail/byte_buffer.hpp"): "the TLS layer's plaintext buffer",
    # The tool renders HTML reports with the library's one escaper.
    ("tools", "pyconc/aiohttp/detail/html_escape.hpp"): "one HTML escape for library and tool",
    ("demo", "pyconc/aiohttp/detail/html_escape.hpp"): "one HTML escape for library and demo",
    # map()'s result range (MapResult, MapOptions) without the whole Executor interface.
    ("multiprocessing", "pyconc/futures/detail/map_results.hpp"): "one map result range for "
    "the executors and the process pools",
    # pyconc::mpi runs the process pool's tasks on MPI ranks (ARCHITECTURE.md decision 11): the
    # one task encoding, its builders and worker-side runner, and map()'s result range.
    ("mpi", "pyconc/futures/detail/map_results.hpp"): "one map result range for every executor",
    ("mpi", "pyconc/multiprocessing/detail/remote_submit.hpp"): "submit/map/starmap's task "
    "building, shared with ProcessPoolExecutor",
    ("mpi", "pyconc/multiprocessing/detail/process_pool_core.hpp"): "RemoteTask: the future "
    "fused with its serialized call",
    ("mpi", "pyconc/multiprocessing/detail/remote_call.hpp"): "the one task wire format",
    ("mpi", "pyconc/multiprocessing/detail/call_runner.hpp"): "the worker side of the task "
    "encoding, shared with the process pools' workers",
}

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"](pyconc(?:_demo)?/[^>"]+)[>"]')


def module_of_header(path):
    """Module owning an include path such as 'pyconc/asyncio/task.hpp'."""
    if path.startswith("pyconc_demo/"):
        return "demo"
    parts = path.split("/")
    if len(parts) == 2:
        name = parts[1]
        if name in CORE_HEADERS:
            return "core"
        if name == "pyconc.hpp":
            return "umbrella"
        stem = name[:-4]
        return stem if stem in RANK else None
    if parts[1] == "detail":
        return "core"
    return parts[1] if parts[1] in RANK else None


def module_of_file(root, path):
    rel = os.path.relpath(path, root)
    parts = rel.split(os.sep)
    if parts[0] == "include":
        return module_of_header("/".join(parts[1:]))
    if parts[0] == "src":
        return parts[1] if parts[1] in RANK else None
    if parts[0] == "demo":
        return "demo"
    if parts[0] == "tools":
        return "tools"
    return None


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), ".."))
    problems = []
    checked = 0
    for top in ("include", "src", "demo", "tools"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if not f.endswith((".hpp", ".cpp", ".h")):
                    continue
                path = os.path.join(dirpath, f)
                owner = module_of_file(root, path)
                rel = os.path.relpath(path, root)
                if owner is None:
                    problems.append(f"{rel}: not in any layer (move it, or name its layer in "
                                    f"scripts/check_layering.py)")
                    continue
                with open(path, encoding="utf-8") as fh:
                    for lineno, line in enumerate(fh, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        checked += 1
                        target = m.group(1)
                        dep = module_of_header(target)
                        if dep is None:
                            problems.append(f"{rel}:{lineno}: {target}: unknown module")
                            continue
                        if owner == "umbrella":
                            continue
                        if dep == "umbrella":
                            problems.append(f"{rel}:{lineno}: includes the umbrella {target}; "
                                            "include the module headers it needs")
                            continue
                        if RANK[dep] > RANK[owner]:
                            problems.append(f"{rel}:{lineno}: {owner} includes {target} "
                                            f"({dep} is a higher layer)")
                            continue
                        tparts = target.split("/")
                        if (len(tparts) > 3 and tparts[2] == "detail" and dep != owner
                                and (owner, target) not in ALLOWED_DETAIL):
                            problems.append(f"{rel}:{lineno}: {owner} reaches into {dep}'s "
                                            f"internals ({target})")
    for p in problems:
        print(p)
    print(f"layering: {checked} includes checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
