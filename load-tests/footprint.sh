#!/usr/bin/env bash
# What a replica costs when idle and how soon it is ready (docs/footprint.md): runs
# `bin/framepipe serve` with its defaults ROUNDS times with the AOT cache and ROUNDS times without
# it (FRAMEPIPE_AOT=off), alternating, and reports for each run:
#   - the time from starting `bin/framepipe serve` to the first 200 of /health/ready (polled every
#     20 ms), and the server's own start-up report (kernel warm-up, request-path warm-up);
#   - the resident memory (VmRSS) IDLE_S seconds after ready, and the process's CPU over those
#     seconds (from /proc/PID/stat, in % of one core).
# Then, on one more run with the cache, the throughput of the first 5 s after ready against the
# throughput of a later 5 s: both measured by a fresh `framepipe load` process (a cold client each
# time, so that only the server's age differs), --mix stats:64,upper:256, 8 x 128.
#
#   load-tests/footprint.sh                 ROUNDS=3 IDLE_S=60 by default
#   ROUNDS=1 IDLE_S=20 load-tests/footprint.sh
#
# Uses ports 27070 and 29464 on 127.0.0.1 (FRAME_PORT, HTTP_PORT). The machine's load average
# is printed beside every run: start-up is CPU-bound (the JIT), so a busy machine slows it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-3}
IDLE_S=${IDLE_S:-60}
FRAME_PORT=${FRAME_PORT:-27070}
HTTP_PORT=${HTTP_PORT:-29464}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/framepipe-footprint.XXXXXX")
PID=""
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# builds the jars and trains the AOT cache if they are stale, outside the timed runs
"$ROOT/bin/framepipe" serve --help 2>&1 > /dev/null | grep -v 'incubator modules' >&2 || true
JAVA="$("$ROOT/bin/framepipe" java-home)/bin/java"
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }   # utime + stime, clock ticks (1/100 s)
rss_mib() { awk '/^VmRSS:/ { printf "%d", $2 / 1024 }' "/proc/$1/status"; }

start() {   # start AOT(on|off) LOG: starts the server, waits until ready, sets PID and READY_MS
  local t0 i
  t0=$(date +%s%N)
  FRAMEPIPE_AOT=$1 "$ROOT/bin/framepipe" serve --bind-address 127.0.0.1 --frame-port "$FRAME_PORT" \
    --http-port "$HTTP_PORT" --drain-delay 0s > "$2" 2>&1 &
  PID=$!
  for i in $(seq 1 6000); do
    curl -fs -o /dev/null --max-time 1 "http://127.0.0.1:$HTTP_PORT/health/ready" 2>/dev/null && break
    kill -0 "$PID" 2>/dev/null || { cat "$2" >&2; echo "footprint.sh: the server exited" >&2; exit 1; }
    sleep 0.02
  done
  READY_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}
stop() { kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }

printf '%-4s %9s %8s %9s %9s %9s %7s  %s\n' aot ready_ms jvm_s kernels_ms path_ms rss_MiB cpu_%  "load average"
for r in $(seq 1 "$ROUNDS"); do
  for aot in on off; do
    log="$WORK/serve-$aot-$r.log"
    start "$aot" "$log"
    load=$(cut -d' ' -f1 /proc/loadavg)
    c0=$(ticks "$PID"); sleep "$IDLE_S"; c1=$(ticks "$PID")
    printf '%-4s %9d %8s %9s %9s %9s %7s  %s\n' "$aot" "$READY_MS" \
      "$(sed -n 's/.*framepipe ready \([0-9.]*\) s after the JVM started.*/\1/p' "$log")" \
      "$(sed -n 's/.*kernels warmed up: [0-9]* rounds in \([0-9]*\) ms.*/\1/p' "$log")" \
      "$(sed -n 's/.*request path warmed up: .* in \([0-9]*\) ms.*/\1/p' "$log")" \
      "$(rss_mib "$PID")" "$(awk -v t=$((c1 - c0)) -v s="$IDLE_S" 'BEGIN { printf "%.2f", t / s }')" "$load"
    grep -q 'AOT cache .* used' "$log" || [ "$aot" = off ] || echo "     (the AOT cache was NOT used: $(grep -o 'AOT cache.*' "$log" | head -1))"
    stop
  done
done

# throughput right after ready, against the same server 10 s later
load5() {
  "$JAVA" --add-modules=jdk.incubator.vector -jar "$ROOT/tools/target/framepipe-tools.jar" load --port "$FRAME_PORT" \
    --warmup 0s --duration 5s --no-hiccups --mix stats:64,upper:256 2>/dev/null \
    | awk '/^throughput/ { gsub(",", "", $2); print $2 }'
}
start on "$WORK/serve-throughput.log"
first=$(load5)
sleep 5
later=$(load5)
stop
echo "throughput: first 5 s after ready $first frames/s, 10 s later $later frames/s:" \
  "$(awk -v a="$first" -v b="$later" 'BEGIN { printf "%.0f %%", 100 * a / b }') (load average $(cut -d' ' -f1 /proc/loadavg))"
# a warm-up that ended at its time budget or warmup-rounds, not compiled, turns ready slow
grep -o 'kernels warmed up: .*' "$WORK/serve-throughput.log" | sed 's/^/  that server: /'
grep -o 'request path warmed up: .*' "$WORK/serve-throughput.log" | sed 's/^/  that server: /'
