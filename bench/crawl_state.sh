#!/usr/bin/env bash
# What `pyconc crawl --state` costs and saves (docs/benchmarks.md#crawl-state): the state's
# work per merged page beside the in-memory sets', then the peak RSS of a crawl of a generated
# site whose frontier grows to N x 100 URLs, without and with a state (one process each).
# Usage: bash bench/crawl_state.sh BUILD/bench/crawl_state_bench
set -euo pipefail
bench=${1:?usage: bench/crawl_state.sh PATH/TO/crawl_state_bench}
work=$(mktemp -d /tmp/pyconc-crawl-state-XXXXXX)
trap 'rm -rf "$work"' EXIT
"$bench" cost 100000
for pages in 2101 6101; do
  "$bench" memory --links 100 --max-pages $pages
  "$bench" memory --links 100 --max-pages $pages --state "$work/state"
done
