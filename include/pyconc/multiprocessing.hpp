// pyconc/multiprocessing.hpp -- Python's `multiprocessing`.
//
//   namespace mp = pyconc::multiprocessing;
//   std::string b = mp::dumps(value); auto v = mp::loads<T>(b);   // what crosses processes
#pragma once

#include "pyconc/multiprocessing/exceptions.hpp"
#include "pyconc/multiprocessing/pool.hpp"
#include "pyconc/multiprocessing/process_pool_executor.hpp"
#include "pyconc/multiprocessing/remote_call.hpp"
#include "pyconc/multiprocessing/serialize.hpp"
