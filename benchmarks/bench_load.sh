#!/usr/bin/env bash
# Throughput of the cached /embed under the production server (waitress), measured
# with wrk (Debian package `wrk`) on this machine, shipped data, no base map.
#   bash benchmarks/bench_load.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
conns=${2:-32}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 1; }
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export MAPAPP_INSTANCE_PATH="$tmp" MAPAPP_TILES=none MAPAPP_SECRET_KEY=bench
.venv/bin/mapapp serve --port "$port" --threads 8 >"$tmp/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
for path in "/embed" "/embed?layers=coworking&lang=en" "/api/layers/companies.geojson"; do
  curl -sf -H 'Accept-Encoding: gzip' "http://127.0.0.1:$port$path" >/dev/null  # warm the cache
  echo "== $path ($secs s, $conns connections, gzip)"
  wrk -t2 -c"$conns" -d"${secs}s" -H 'Accept-Encoding: gzip' "http://127.0.0.1:$port$path" \
    | grep -E "Requests/sec|Latency|Non-2xx|Socket errors" || true
done
