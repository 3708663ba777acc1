// pyconc/multiprocessing/context.hpp -- start methods: how pool workers come to exist.
//
// Python: multiprocessing.get_context(method), set_start_method, get_start_method,
// get_all_start_methods, and a context's Process.
//   auto ctx = mp::get_context("fork");              // "fork" | "spawn" | "forkserver"
//   mp::Pool pool(4, {.context = ctx});                // workers inherit main()'s state
//   cf::ProcessPoolExecutor ex(4, {.mp_context = ctx});
//   mp::set_start_method("forkserver"); mp::get_start_method();   // the process-wide default
//   auto p = ctx.Process(fn, 1); p.start();
//
// The three methods, for the workers of mp::Pool and cf::ProcessPoolExecutor:
//  - "spawn" (the default): /proc/self/exe is executed again in worker mode. A worker has the
//    program's static initialization and nothing main() did (Python's spawn: globals assigned
//    in main() are missing; pass state through initializer/initargs or the tasks). Safe
//    whatever threads the parent runs; costs an exec and the program's start-up per worker.
//  - "fork": the pool's manager thread forks. A worker is a copy of the parent at that moment:
//    globals, loaded data, open files and connections main() set up are there (Python's fork,
//    Linux's default up to 3.13). The trap, as in Python: only the forking thread exists in the
//    child, so a lock another thread held at that instant (yours, or a library's) stays held
//    there forever, and objects other threads were changing may be half-changed. Create fork
//    pools early, before other threads start, or make sure the tasks touch nothing those
//    threads lock. ThreadSanitizer does not follow a multi-threaded parent into its children:
//    tests of fork pools there prove only the parent's side.
//  - "forkserver": at first use a server process is started as "spawn" starts a worker (so it
//    is single-threaded and has no state of main()), and every worker is forked from it: the
//    safety of spawn at close to the cost of fork (no exec, no start-up per worker). The server
//    ends when this process does (its socket closes); its workers die with it. Its workers
//    have the descriptors the server had when it started -- not those opened since (a pipe
//    made for one pool), as in Python: pass data through the tasks.
// mp::Process always forks its child (its target may be any callable), whatever the method:
// ctx.Process(...) is mp::Process(...). (Python's spawn/forkserver Process re-imports the main
// module to run a picklable target; pyconc's spawned pool workers do the equivalent.)
//
// Thread safety: get_context/get_start_method may be called from any thread; set_start_method
// should be called once, early in main(), before pools are created (as in Python). A Context is
// a small value: copy it anywhere.
#pragma once

// Context, get_context, set_start_method... are declared in start_method.hpp (which the pools'
// headers include); this header adds what ctx.Process needs.
#include "pyconc/multiprocessing/process.hpp"
#include "pyconc/multiprocessing/start_method.hpp"
