#!/usr/bin/env bash
# The server's CPU time per request (utime + stime from /proc, divided by the requests wrk
# completed) for one bench/http_server binary on /hello/world -- a figure that contention on
# a shared machine disturbs far less than requests/s. Used to compare two builds of the server
# (before/after a change) and HTTP against HTTPS.
# Usage: bench/http_cpu_per_request.sh NAME HTTP_SERVER_BINARY PORT http|https [CERT KEY]
set -uo pipefail
name=$1 bin=$2 port=$3 scheme=$4; shift 4
$bin $port 1 "$@" >/dev/null 2>&1 & pid=$!
for i in $(seq 50); do curl -sk -o /dev/null $scheme://127.0.0.1:$port/hello/world && break; sleep 0.1; done
wrk -t1 -c50 -d1s $scheme://127.0.0.1:$port/hello/world >/dev/null
t0=$(awk '{print $14+$15}' /proc/$pid/stat)
out=$(wrk -t1 -c50 -d3s $scheme://127.0.0.1:$port/hello/world)
t1=$(awk '{print $14+$15}' /proc/$pid/stat)
reqs=$(echo "$out" | awk '/requests in/ {print $1}')
rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
hz=$(getconf CLK_TCK)
echo "$name rps=$rps cpu_us_per_req=$(awk -v a=$t0 -v b=$t1 -v n=$reqs -v hz=$hz 'BEGIN{printf "%.2f", (b-a)/hz*1e6/n}')"
kill $pid; wait $pid 2>/dev/null
