#!/usr/bin/env bash
# TLS cost: frames/s for small and large frames in plain text, over TLS with OpenSSL
# (netty-tcnative BoringSSL) and over TLS with the JDK provider (server and load generator on
# the same provider), one run each, on this machine's loopback. Certificates are made here
# with openssl into a temporary directory. Writes a Markdown table.
#
#   load-tests/tls-throughput.sh [REPORT=load-tests/results/tls-<utc time>.md]
#   DURATION=10s WARMUP=3s load-tests/tls-throughput.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FP="$ROOT/bin/framepipe"
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
REPORT=${1:-$ROOT/load-tests/results/tls-$(date -u +%Y%m%dT%H%MZ).md}
PKI=$(mktemp -d)
FRAME_PORT=${FRAME_PORT:-17271}
SERVER=

cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$PKI"; }
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=bench CA" \
  -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
  -keyout "$PKI/server.key" -out "$PKI/server.csr" 2>/dev/null
openssl x509 -req -in "$PKI/server.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial -days 1 \
  -out "$PKI/server.crt" -extfile <(printf "subjectAltName=IP:127.0.0.1,DNS:localhost") 2>/dev/null

"$FP" build >/dev/null
{
  echo "# TLS throughput ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) shared CPUs, loopback, ${DURATION} measured after ${WARMUP})"
  echo
  echo "| transport | frames | connections x depth | frames/s | MB/s (both ways) | p99 latency |"
  echo "|---|---|---|---:|---:|---:|"
} > "$REPORT"

for mode in plain openssl jdk; do
  tls_server=(); tls_client=()
  if [ "$mode" != plain ]; then
    tls_server=(--tls-cert-chain "$PKI/server.crt" --tls-key "$PKI/server.key" --tls-provider "$mode")
    tls_client=(--tls-ca "$PKI/ca.crt" --tls-provider "$mode")
  fi
  "$FP" serve --bind-address 127.0.0.1 --frame-port "$FRAME_PORT" --http-port 0 --io-threads 2 "${tls_server[@]}" \
    > "$PKI/serve-$mode.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 150); do grep -q "framepipe ready" "$PKI/serve-$mode.log" && break; sleep 0.2; done
  grep -q "framepipe ready" "$PKI/serve-$mode.log" || { cat "$PKI/serve-$mode.log"; exit 1; }
  for size in small large; do
    if [ $size = small ]; then mix=ping:64; conns=4; depth=128; else mix=ping:1048560; conns=4; depth=4; fi
    "$FP" load --port "$FRAME_PORT" --mix "$mix" --connections $conns --depth $depth --duration "$DURATION" \
      --warmup "$WARMUP" --json "$PKI/$mode-$size.json" "${tls_client[@]}" > "$PKI/$mode-$size.log" 2>&1 || true
    python3 - "$PKI/$mode-$size.json" "$mode" "$size" "$mix" "$conns x $depth" >> "$REPORT" <<'PY'
import json, sys
path, mode, size, mix, shape = sys.argv[1:]
try:
    r = json.load(open(path))
except Exception as e:
    print(f"| {mode} | {size} ({mix}) | {shape} | failed: {e} | | |"); sys.exit()
fps = r["frames_per_second"]
mbs = r["request_mb_per_second"] + r["response_mb_per_second"]
p99 = r["p99_us"]
if r["errors"] or r["mismatches"]:
    shape += f" (errors {r['errors']}, mismatches {r['mismatches']})"
def f(v, fmt): return fmt.format(v) if isinstance(v, (int, float)) else str(v)
print(f"| {mode} | {size} ({mix}) | {shape} | {f(fps, '{:,.0f}')} | {f(mbs, '{:,.1f}')} | {f(p99, '{:,.0f} µs')} |")
PY
  done
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
done
echo "tls-throughput: report $REPORT" >&2
cat "$REPORT"
