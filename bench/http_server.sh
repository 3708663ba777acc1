#!/usr/bin/env bash
# HTTP server throughput: `wrk -t1 -c50` against the seeds' hello route served by pyconc
# (1 worker, then one per CPU), aiohttp, aiohttp + uvloop, and nginx returning the same bytes
# from a `return 200` location, one worker each; then the same over HTTPS (pyconc and nginx,
# one worker, a self-signed certificate made with openssl). Prints a Markdown table
# (requests/s, ratios).
# Usage: bench/http_server.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=${1:?usage: bench/http_server.sh BUILD_DIR [SECONDS]}
secs=${2:-5}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
server="$build/bench/http_server"
py=/usr/bin/python3
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() {  # port [scheme]
  for _ in $(seq 1 100); do
    curl -sk -o /dev/null "${2:-http}://127.0.0.1:$1/hello/world" && return 0
    sleep 0.1
  done
  echo "http_server.sh: nothing answers on port $1" >&2
  return 1
}
measure() {  # name port [scheme] -> prints "name rps"
  local url="${3:-http}://127.0.0.1:$2/hello/world"
  wrk -t1 -c50 -d1s "$url" >/dev/null  # warm-up
  local rps
  rps=$(wrk -t1 -c50 -d"${secs}s" "$url" | awk '/Requests\/sec/ {print $2}')
  echo "$1 $rps"
}
start() {  # port command...
  local port=$1
  shift
  "$@" >/dev/null 2>&1 &
  pids+=($!)
  wait_up "$port" "${scheme:-http}"
}

results=()
p=$(free_port); start "$p" "$server" "$p" 1; results+=("$(measure pyconc "$p")"); kill "${pids[-1]}"
p=$(free_port); start "$p" "$server" "$p" "$(nproc)"; results+=("$(measure "pyconc_workers_$(nproc)" "$p")"); kill "${pids[-1]}"
if "$py" -c 'import aiohttp' 2>/dev/null; then
  p=$(free_port); start "$p" "$py" "$here/python/aiohttp_server.py" "$p"; results+=("$(measure aiohttp "$p")"); kill "${pids[-1]}"
  if "$py" -c 'import uvloop' 2>/dev/null; then
    p=$(free_port); start "$p" "$py" "$here/python/aiohttp_server.py" "$p" uvloop
    results+=("$(measure aiohttp_uvloop "$p")"); kill "${pids[-1]}"
  fi
fi
if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then
  nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
  p=$(free_port)
  cat > "$tmp/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $tmp; proxy_temp_path $tmp; fastcgi_temp_path $tmp; uwsgi_temp_path $tmp; scgi_temp_path $tmp;
  server {
    listen 127.0.0.1:$p;
    location /hello/ { default_type text/html; return 200 "<h1>hello, world!</h1>"; }
  }
}
CONF
  start "$p" "$nginx_bin" -c "$tmp/nginx.conf" -p "$tmp"; results+=("$(measure nginx "$p")"); kill "${pids[-1]}"
fi

# HTTPS: the same route over TLS (keep-alive: wrk's 50 connections handshake once each).
if command -v openssl >/dev/null; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1
  scheme=https
  p=$(free_port); start "$p" "$server" "$p" 1 "$tmp/cert.pem" "$tmp/key.pem"
  results+=("$(measure pyconc_https "$p" https)"); kill "${pids[-1]}"
  if [ -n "${nginx_bin:-}" ]; then
    p=$(free_port)
    sed -e "s|listen 127.0.0.1:[0-9]*;|listen 127.0.0.1:$p ssl; ssl_certificate $tmp/cert.pem; ssl_certificate_key $tmp/key.pem;|" \
      "$tmp/nginx.conf" > "$tmp/nginx_tls.conf"
    start "$p" "$nginx_bin" -c "$tmp/nginx_tls.conf" -p "$tmp"
    results+=("$(measure nginx_https "$p" https)"); kill "${pids[-1]}"
  fi
  scheme=http
fi

echo
echo "| server | requests/s | pyconc (1 worker) / it |"
echo "|---|---|---|"
ours=$(echo "${results[0]}" | awk '{print $2}')
for r in "${results[@]}"; do
  name=${r% *}
  rps=${r#* }
  ratio=$(awk -v a="$ours" -v b="$rps" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "--" }')
  echo "| $name | $rps | $ratio |"
done
echo "wrk -t1 -c50 -d${secs}s, the seeds' /hello/{name}; target: pyconc ≥ 1.0× nginx."
tls=$(printf '%s\n' "${results[@]}" | awk '$1 == "pyconc_https" {a = $2} $1 == "nginx_https" {b = $2}
  END { if (a > 0 && b > 0) printf "HTTPS: pyconc / nginx = %.2f×", a / b }')
[ -n "$tls" ] && echo "$tls"
true
