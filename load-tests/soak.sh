#!/usr/bin/env bash
# Soak test: starts a server with Netty's leak detector at paranoid, drives it with
# `framepipe soak` (valid traffic, malformed frames, disconnects mid-frame and mid-answer,
# clients that stop reading, churn, slowloris) for DURATION seconds, stops it with SIGTERM, and
# writes a Markdown report. Exit status 0 only when nothing was lost and nothing leaked.
#
#   load-tests/soak.sh [DURATION_SECONDS=600] [REPORT=load-tests/results/soak-<utc time>.md]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${1:-600}
REPORT=${2:-$ROOT/load-tests/results/soak-$(date -u +%Y%m%dT%H%MZ).md}
WORK=$(mktemp -d)
LOG=$WORK/server.log
SERVER_PID=

cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill "$SERVER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

"$ROOT/bin/framepipe" --version >/dev/null  # builds the jars first only when the sources are newer than them
# Limits the soak exercises: slowloris closed within seconds; a direct-memory budget well below
# the JVM's limit; small heap so growth would show.
FRAMEPIPE_JAVA_OPTS="-Dio.netty.leakDetection.level=paranoid -Xms256m -Xmx256m -XX:MaxDirectMemorySize=512m ${SOAK_JAVA_OPTS:-}" \
  "$ROOT/bin/framepipe" serve --bind-address 127.0.0.1 --frame-port 0 --http-port 0 \
  --slow-frame-grace 2s --slow-frame-min-rate 1KiB --direct-memory-budget 256MiB --close-linger 1s \
  >"$LOG" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 300); do
  grep -q "framepipe ready" "$LOG" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$LOG"; echo "soak: server did not start" >&2; exit 1; }
  sleep 0.1
done
READY=$(grep -m1 "framepipe ready" "$LOG") || { cat "$LOG"; echo "soak: server not ready after 30 s" >&2; exit 1; }
FRAME_PORT=$(sed -E 's/.*frames on ([0-9]+).*/\1/' <<<"$READY")
HTTP_PORT=$(sed -E 's/.*http on ([0-9]+).*/\1/' <<<"$READY")
# bin/framepipe execs java, so $SERVER_PID is the JVM itself.
echo "soak: server pid $SERVER_PID, frames on $FRAME_PORT, http on $HTTP_PORT, $DURATION s, log $LOG" >&2

status=0
"$ROOT/bin/framepipe" soak --port "$FRAME_PORT" --http-port "$HTTP_PORT" --pid "$SERVER_PID" \
  --server-log "$LOG" --duration "$DURATION" --slow-frame-grace 2 --report "$REPORT" || status=$?
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=
grep -c "LEAK:" "$LOG" >/dev/null && { echo "soak: LEAK reports in $LOG:" >&2; grep -A3 "LEAK:" "$LOG" | head -40 >&2; status=1; }
echo "soak: report $REPORT (status $status)" >&2
exit $status
