# pyconc -- the two set-up commands are `make demo` and `make test`; each installs what is
# missing (Debian packages through scripts/deps.sh) and builds.
#
#   make demo    the main job: `pyconc crawl` (the embedded demo blog, crawled and checked)
#   make test    build + the whole test suite through ctest
#   make tsan    the test suite under ThreadSanitizer   (build-tsan/)
#   make asan    the test suite under AddressSanitizer + UBSan (build-asan/)
#   make build-clang   the library and the tool built with clang (build-clang/)
#   make bench   Google Benchmark suites beside Python and C++ peers (build-bench/)
#   make fuzz    the HTTP request parser and the WebSocket frame parser under libFuzzer, FUZZ_SECONDS (60) s each (build-fuzz/, clang)
#   make compile-budget   what each public header costs to compile, beside the bare standard headers
#   make compile-ratchet  fails when a module header costs more than scripts/compile_budget.ratchet
#   make check-layering   fails on an include that runs against ARCHITECTURE.md's layers
#   make format / make format-check / make tidy / make clean

CMAKE_GEN  ?= Ninja
JOBS       ?= $(shell nproc)
CTEST_ARGS ?=
DEPS        = scripts/deps.sh

FUZZ_SECONDS ?= 60

# ccache (installed by scripts/deps.sh) keeps rebuilds of an unchanged file cheap, also across
# clones in other directories: paths are hashed relative to the checkout, not absolutely.
LAUNCHER    = $(if $(shell command -v ccache),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
export CCACHE_BASEDIR  = $(CURDIR)
export CCACHE_NOHASHDIR = 1

.PHONY: all deps deps-test deps-clang build-clang demo test build build-tool tsan asan bench fuzz format format-check tidy clean \
        compile-budget compile-ratchet check-layering

all: build

deps:
	@$(DEPS) build

# The tests also use nginx and openssl (the HTTP client's tests against a real server).
deps-test:
	@$(DEPS) test

deps-clang:
	@$(DEPS) clang

build/build.ninja: | deps
	cmake -S . -B build -G $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(LAUNCHER)

build: deps build/build.ninja
	cmake --build build -j $(JOBS)

# The demo needs only the library and the tool: the tests and examples are `make test`'s business.
build-tool: deps build/build.ninja
	cmake --build build -j $(JOBS) --target pyconc_tool

demo: build-tool
	./build/tools/pyconc/pyconc crawl

test: build
	@$(DEPS) test
	ctest --test-dir build --output-on-failure -j $(JOBS) $(CTEST_ARGS)

build-tsan/build.ninja: | deps
	cmake -S . -B build-tsan -G $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DPYCONC_SANITIZE=thread -DPYCONC_BUILD_TOOLS=OFF $(LAUNCHER)

build-asan/build.ninja: | deps-test
	cmake -S . -B build-asan -G $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DPYCONC_SANITIZE=address -DPYCONC_BUILD_TOOLS=OFF $(LAUNCHER)

# Debian's second compiler: the library, the demo target and the tool built with clang 14 (no
# tests: `make test` runs them with g++). Users pick their compiler; the fuzzers and clang-tidy
# need clang.
build-clang/build.ninja: | deps-clang
	cmake -S . -B build-clang -G $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DPYCONC_BUILD_TESTS=OFF \
	  -DPYCONC_BUILD_EXAMPLES=OFF -DPYCONC_BUILD_TOOLS=ON $(LAUNCHER)

build-clang: deps-clang build-clang/build.ninja
	cmake --build build-clang -j $(JOBS)

# TSAN_OPTIONS/ASAN_OPTIONS: fail the test on the first report, so a race is never just a warning.
# tsan.supp holds the one suppression (a libstdc++ false positive; see the file).
tsan: deps-test build-tsan/build.ninja
	@$(DEPS) test
	cmake --build build-tsan -j $(JOBS)
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tsan.supp" \
	  ctest --test-dir build-tsan --output-on-failure -j $(JOBS) -LE install $(CTEST_ARGS)

asan: deps-test build-asan/build.ninja
	@$(DEPS) test
	cmake --build build-asan -j $(JOBS)
	ASAN_OPTIONS="detect_leaks=1 abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1" \
	  ctest --test-dir build-asan --output-on-failure -j $(JOBS) -LE install $(CTEST_ARGS)

bench:
	@$(DEPS) bench
	cmake -S . -B build-bench -G $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DPYCONC_BUILD_BENCH=ON \
	  -DPYCONC_BUILD_TESTS=OFF -DPYCONC_BUILD_EXAMPLES=OFF -DPYCONC_BUILD_TOOLS=ON $(LAUNCHER)
	cmake --build build-bench -j $(JOBS)
	bash bench/run.sh build-bench
	bash scripts/compile_budget.sh

compile-budget:
	@$(DEPS) build
	bash scripts/compile_budget.sh

# No timing: fails when a module header got dearer to include than recorded (deterministic; CI).
compile-ratchet:
	@$(DEPS) build
	bash scripts/compile_budget.sh --ratchet

check-layering:
	python3 scripts/check_layering.py

# libFuzzer + ASan + UBSan (clang). Seeds: the bad-request table of tests/aiohttp; what the
# fuzzer finds is kept in build-fuzz/corpus/ and reused by the next run.
fuzz:
	@$(DEPS) fuzz
	cmake -S . -B build-fuzz -G $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DPYCONC_SANITIZE=fuzzer \
	  -DPYCONC_BUILD_FUZZ=ON -DPYCONC_BUILD_TESTS=OFF -DPYCONC_BUILD_EXAMPLES=OFF -DPYCONC_BUILD_TOOLS=OFF
	cmake --build build-fuzz -j $(JOBS) --target request_parser_fuzz make_seed_corpus \
	  websocket_frame_fuzz
	mkdir -p build-fuzz/corpus/request_parser build-fuzz/seeds/request_parser build-fuzz/artifacts \
	  build-fuzz/corpus/websocket_frame build-fuzz/seeds/websocket_frame
	./build-fuzz/fuzz/make_seed_corpus build-fuzz/seeds/request_parser build-fuzz/seeds/websocket_frame
	./build-fuzz/fuzz/request_parser_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
	  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build-fuzz/artifacts/ \
	  build-fuzz/corpus/request_parser build-fuzz/seeds/request_parser
	./build-fuzz/fuzz/websocket_frame_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=70000 \
	  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build-fuzz/artifacts/ \
	  build-fuzz/corpus/websocket_frame build-fuzz/seeds/websocket_frame

format:
	@$(DEPS) format
	find include src tests examples bench tools fuzz demo -name '*.hpp' -o -name '*.cpp' | xargs clang-format -i

format-check:
	@$(DEPS) format
	find include src tests examples bench tools fuzz demo -name '*.hpp' -o -name '*.cpp' | \
	  xargs clang-format --dry-run --Werror

tidy: build
	find src tools -name '*.cpp' | xargs clang-tidy -p build --quiet

clean:
	rm -rf build build-tsan build-asan build-clang build-bench build-fuzz
