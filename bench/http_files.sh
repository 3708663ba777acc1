#!/usr/bin/env bash
# One static-file server under wrk -t1 -c10 -d3s: requests/s, transfer/s and the server's CPU
# per request (its processes' utime+stime from /proc over the requests wrk completed).
# Usage: bench/http_files.sh NAME PORT URL COMMAND...   e.g.
#   PYCONC_BENCH_STATIC=/tmp/www bench/http_files.sh pyconc 8081 \
#     http://127.0.0.1:8081/static/1m.bin build/bench/http_server 8081 1
set -uo pipefail
name=$1 port=$2 url=$3; shift 3
"$@" >/dev/null 2>&1 & pid=$!
for i in $(seq 50); do curl -sk -o /dev/null "$url" && break; sleep 0.1; done
wrk -t1 -c10 -d1s "$url" >/dev/null
cpu_of() { local t=0; for p in $pid $(pgrep -P $pid); do t=$((t + $(awk '{print $14+$15}' /proc/$p/stat))); done; echo $t; }
t0=$(cpu_of)
out=$(wrk -t1 -c10 -d3s "$url")
t1=$(cpu_of)
reqs=$(echo "$out" | awk '/requests in/ {print $1}')
echo "$name $(echo "$out" | awk '/Requests\/sec/ {printf "rps=%s ", $2} /Transfer\/sec/ {printf "transfer=%s ", $2}') cpu_us_per_req=$(awk -v a=$t0 -v b=$t1 -v n=$reqs -v hz=$(getconf CLK_TCK) 'BEGIN{printf "%.1f", (b-a)/hz*1e6/n}')"
kill $pid; wait $pid 2>/dev/null
