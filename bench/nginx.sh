#!/usr/bin/env bash
# Starts nginx for the HTTP client benchmark, serving generated files from a temporary
# directory on a loopback port, and prints "export PYCONC_BENCH_HTTP_URL=... NGINX_DIR=...".
# Usage: eval "$(bench/nginx.sh start [ROOT])" ... bench/nginx.sh stop "$NGINX_DIR"
# ROOT: serve that directory instead (the crawl benchmark serves Python's HTML docs).
set -euo pipefail

case "${1:-}" in
  start)
    root=${2:-}
    nginx=$(command -v nginx || echo /usr/sbin/nginx)
    [ -x "$nginx" ] || { echo "bench/nginx.sh: nginx is not installed (scripts/deps.sh bench)" >&2; exit 1; }
    dir=$(mktemp -d /tmp/pyconc-bench-nginx-XXXXXX)
    chmod 755 "$dir"
    mkdir -p "$dir/www"
    head -c 1024 /dev/zero | tr '\0' 'x' > "$dir/www/small.txt"
    head -c 65536 /dev/urandom > "$dir/www/64k.bin"
    chmod 755 "$dir/www"; chmod 644 "$dir/www"/*
    for attempt in 1 2 3 4 5; do
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
      cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/body; proxy_temp_path $dir/proxy; fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi;
  keepalive_requests 1000000;
  default_type application/octet-stream;
  types { text/html html htm; text/css css; application/javascript js; text/plain txt; image/png png; }
  server { listen 127.0.0.1:$port; root ${root:-$dir/www}; }
}
CONF
      if "$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" 2>/dev/null; then
        for _ in $(seq 100); do
          if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; then
            echo "export PYCONC_BENCH_HTTP_URL=http://127.0.0.1:$port NGINX_DIR=$dir"
            exit 0
          fi
          sleep 0.05
        done
      fi
    done
    echo "bench/nginx.sh: nginx did not start: $(cat "$dir/error.log" 2>/dev/null)" >&2
    exit 1
    ;;
  stop)
    dir=${2:?usage: bench/nginx.sh stop DIR}
    if [ -f "$dir/nginx.pid" ]; then kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true; fi
    for _ in $(seq 100); do [ -f "$dir/nginx.pid" ] || break; sleep 0.05; done
    rm -rf "$dir"
    ;;
  *) echo "usage: bench/nginx.sh start | stop DIR" >&2; exit 2 ;;
esac
