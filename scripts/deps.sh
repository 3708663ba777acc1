#!/usr/bin/env bash
# Installs the Debian packages pyconc needs, and only those that are missing.
# Idempotent and non-interactive. Usage: scripts/deps.sh [build|test|clang|bench|fuzz|format|all]
#   build  - what `make test` / `make demo` need (compiler, CMake, Ninja, GoogleTest, CLI11,
#            llhttp sources, gumbo, libcurl, OpenSSL, nlohmann-json, cereal, ccache, Open MPI
#            for pyconc::pyconc_mpi, SQLite for the crawler's resumable state)
#   bench  - additionally the C++ peers measured by `make bench`
#   test   - additionally what tests use when present (they skip without): nginx, openssl, curl,
#            python3-aiohttp (the asyncio row of `pyconc compare`'s downloads; WebSocket interop),
#            python3-websockets (WebSocket interop), python3-mpi4py (the MPI anchor), chromium
#            and fonts-liberation (the timeline page's headless-browser test; installed without
#            recommends, so the fonts are named)
#   clang  - build, plus clang (`make build-clang`)
#   fuzz   - additionally clang and its libFuzzer runtime (`make fuzz`)
#   format - clang-format (`make format`, `make format-check`)
set -euo pipefail

profile=${1:-build}
build_pkgs=(g++ cmake ninja-build make pkg-config libgtest-dev libgmock-dev libcli11-dev node-llhttp
            libgumbo-dev libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libcereal-dev ccache
            openmpi-bin libopenmpi-dev libsqlite3-dev)
bench_pkgs=(libbenchmark-dev libconcurrentqueue-dev libasio-dev libtbb-dev libmsgpack-cxx-dev python3-aiohttp
            python3-uvloop nginx wrk curl python3.11-doc libstdc++-12-doc python3-websockets python3-mpi4py)
case "$profile" in
  build) want=("${build_pkgs[@]}") ;;
  test) want=("${build_pkgs[@]}" nginx openssl curl python3-aiohttp python3-websockets python3-mpi4py chromium fonts-liberation) ;;
  bench) want=("${build_pkgs[@]}" "${bench_pkgs[@]}") ;;
  clang) want=("${build_pkgs[@]}" clang) ;;
  fuzz) want=("${build_pkgs[@]}" clang libclang-rt-14-dev) ;;
  format) want=(clang-format) ;;
  all) want=("${build_pkgs[@]}" "${bench_pkgs[@]}" clang libclang-rt-14-dev clang-format clang-tidy) ;;
  *) echo "usage: $0 [build|test|clang|bench|fuzz|format|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "pyconc: installing missing Debian packages: ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "pyconc: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when they are absent or a first install attempt fails.
if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1; then
  "${sudo[@]}" apt-get update -q
fi
if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
