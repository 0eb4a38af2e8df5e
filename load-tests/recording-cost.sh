#!/usr/bin/env bash
# recording-cost.sh - what recording metrics costs the service's throughput: the same closed-loop
# load against the service with recording on and with it off (-Dframepipe.metrics.recording=false
# turns every PipelineCounters method into a no-op), interleaved round by round (the order
# alternates) so that noise from other work on the machine hits both alike; prints each run and
# the medians. docs/observability.md has the result.
#
#   load-tests/recording-cost.sh                  ROUNDS=5 DURATION=15s WARMUP=5s MIX=stats:64
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FP="$ROOT/bin/framepipe"
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-5s}
MIX=${MIX:-stats:64}
TMP=$(mktemp -d /tmp/framepipe-cost.XXXXXX)
# run() executes in a command substitution (a subshell), so the server's pid goes through a file.
cleanup() { [ -s "$TMP/server.pid" ] && kill "$(cat "$TMP/server.pid")" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT

"$FP" build >/dev/null

run() {  # on|off → frames/s of one run
  local mode=$1 recording=true
  [ "$mode" = off ] && recording=false
  FRAMEPIPE_JAVA_OPTS="-Dframepipe.metrics.recording=$recording" "$FP" serve --bind-address 127.0.0.1 \
    --frame-port 0 --http-port 0 > "$TMP/serve.log" 2>&1 &
  local server=$!
  echo "$server" > "$TMP/server.pid"
  for _ in $(seq 360); do grep -q "framepipe ready" "$TMP/serve.log" && break; sleep 0.5; done
  local port; port=$(grep -o "frames on [0-9]*" "$TMP/serve.log" | awk '{print $3}')
  [ -n "$port" ] || { echo "service did not start" >&2; cat "$TMP/serve.log" >&2; exit 1; }
  timeout 300 "$FP" load --port "$port" --mix "$MIX" --duration "$DURATION" --warmup "$WARMUP" \
    --json "$TMP/$mode.json" > "$TMP/load.log" 2>&1
  kill "$server"; wait "$server" 2>/dev/null || true; : > "$TMP/server.pid"
  awk -F': ' '/"frames_per_second"/ {gsub(/,/, "", $2); printf "%.0f\n", $2}' "$TMP/$mode.json"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

on=() off=()
for r in $(seq "$ROUNDS"); do
  if (( r % 2 )); then order="on off"; else order="off on"; fi
  for mode in $order; do
    fps=$(run "$mode")
    echo "round $r  recording $mode  $fps frames/s"
    if [ "$mode" = on ]; then on+=("$fps"); else off+=("$fps"); fi
  done
done
m_on=$(printf '%s\n' "${on[@]}" | median)
m_off=$(printf '%s\n' "${off[@]}" | median)
echo "median frames/s: recording on $m_on, off $m_off; on/off = $(awk -v a="$m_on" -v b="$m_off" 'BEGIN {printf "%.3f", a / b}')"
