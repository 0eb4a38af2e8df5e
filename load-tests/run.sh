#!/usr/bin/env bash
# Measures framepipe side by side with two servers that compute nothing, in one run on this
# machine's loopback:
#   raw        the shared raw-transport baseline (../shared/tools/raw-baseline/BaselineServer.java):
#              blocking, one thread per connection, one read and one write per batch; the yardstick
#              this project did not tune
#   netty      `framepipe baseline`: Netty, the service's I/O threads
#   inline     (optional) the shared InlineNetty.java: Netty's epoll transport answering every read
#              in place on its I/O threads, STATS as a scalar loop; what Netty alone costs per frame
#   framepipe  `framepipe serve`
# Every scenario in load-tests/scenarios runs ROUNDS rounds; in each round every server runs once,
# the order rotating from round to round, so that all of them sample the same stretches of a busy
# machine. The report, load-tests/results/<date>.md, gives per scenario and server the medians of
# frames/s, server cores (/proc/PID/stat over the measured window), frames per server core-second,
# the ratios to raw (taken within each round, then the median), latency and the load generator's
# own CPU; the targets as PASS/MISS; and SVG charts that `framepipe chart load` makes from the
# summary written beside the report (<date>.json).
#
#   load-tests/run.sh [scenario-name-prefix ...]     e.g. load-tests/run.sh 01 05
#   DURATION=8s WARMUP=3s ROUNDS=3 load-tests/run.sh  measured time and warm-up per run, rounds (the defaults)
#   CLIENT=blocking                                   closed-loop client: blocking (one thread per connection,
#                                                     the default) or netty; open-loop scenarios use netty
#   CHECK_VALUES=1                                    also check the values of framepipe's answers (every 16th);
#                                                     by default the client checks ids, order, kinds and sizes
#                                                     only, the same work against every server
#   SERVERS="raw raw-project netty framepipe"         add `framepipe baseline --raw` (default: raw netty framepipe)
#   SERVERS="raw inline netty framepipe"              add the shared InlineNetty.java (Netty's floor here)
#   IO_THREADS=2                                      I/O threads of the Netty baseline and the service
#   SERVER_CPUS=0 CLIENT_CPUS=1                       servers and load generator on CPUs of their own (taskset
#                                                     lists; both or neither); IO_THREADS then defaults to the
#                                                     servers' CPU count
#   FRAMEPIPE_WORKER_PARALLELISM=1 load-tests/run.sh  any service setting, as its environment variable
#                                                     (recorded in the report)
#
# Exit status 1 when a scenario got wrong answers (errors or mismatches from framepipe, mismatches
# from the yardsticks, requests lost: verdict ERRORS), a load run failed, or a chart is missing or
# not well-formed; a missed target is not a failure (verdict MISS).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FP="$ROOT/bin/framepipe"
DURATION=${DURATION:-8s}
WARMUP=${WARMUP:-3s}
ROUNDS=${ROUNDS:-3}
CLIENT=${CLIENT:-blocking}
SERVERS=${SERVERS:-raw netty framepipe}
SHARED=${SHARED:-$ROOT/../shared}
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: ROUNDS must be a positive whole number, not '$ROUNDS'" >&2; exit 2; }
[[ "$CLIENT" =~ ^(blocking|netty)$ ]] || { echo "run.sh: CLIENT must be blocking or netty, not '$CLIENT'" >&2; exit 2; }
read -r -a servers <<< "$SERVERS"
for k in "${servers[@]}"; do
  [[ "$k" =~ ^(raw|raw-project|inline|netty|framepipe)$ ]] \
    || { echo "run.sh: SERVERS: unknown server '$k' (raw, raw-project, inline, netty, framepipe)" >&2; exit 2; }
done
[[ " $SERVERS " == *" raw "* && " $SERVERS " == *" framepipe "* ]] \
  || { echo "run.sh: SERVERS must hold raw (the ratios' base) and framepipe" >&2; exit 2; }
RAW_SRC="$SHARED/tools/raw-baseline/BaselineServer.java"
[ -f "$RAW_SRC" ] || { echo "run.sh: no raw baseline at $RAW_SRC (set SHARED to the shared directory)" >&2; exit 2; }
FRAME_PORT=${FRAME_PORT:-17070}; HTTP_PORT=${HTTP_PORT:-19464}; BASE_PORT=${BASE_PORT:-17171}
RAW_PORT=${RAW_PORT:-17272}; RAW_PROJECT_PORT=${RAW_PROJECT_PORT:-17373}; INLINE_PORT=${INLINE_PORT:-17474}
INLINE_SRC="$SHARED/tools/raw-baseline/InlineNetty.java"
[[ " $SERVERS " != *" inline "* || -f "$INLINE_SRC" ]] \
  || { echo "run.sh: no InlineNetty at $INLINE_SRC (set SHARED to the shared directory)" >&2; exit 2; }
SERVER_CPUS=${SERVER_CPUS:-}; CLIENT_CPUS=${CLIENT_CPUS:-}
server_on=() client_on=()
if [ -n "$SERVER_CPUS$CLIENT_CPUS" ]; then
  [ -n "$SERVER_CPUS" ] && [ -n "$CLIENT_CPUS" ] \
    || { echo "run.sh: SERVER_CPUS and CLIENT_CPUS go together (taskset CPU lists, e.g. 0 and 1)" >&2; exit 2; }
  command -v taskset > /dev/null || { echo "run.sh: SERVER_CPUS needs taskset (util-linux)" >&2; exit 2; }
  for c in "$SERVER_CPUS" "$CLIENT_CPUS"; do
    taskset -c "$c" true 2>/dev/null || { echo "run.sh: '$c' is not a CPU list this machine can run on" >&2; exit 2; }
  done
  server_on=(taskset -c "$SERVER_CPUS") client_on=(taskset -c "$CLIENT_CPUS")
fi
# the service's default (one I/O thread per CPU it may run on), for both Netty servers
IO_THREADS=${IO_THREADS:-$("${server_on[@]}" nproc)}
OUT_DIR="$ROOT/load-tests/results"; TMP="$OUT_DIR/tmp"; mkdir -p "$TMP"
STAMP=$(date -u +%Y-%m-%d-%H%M); STARTED=$(date -u '+%Y-%m-%d %H:%M')
REPORT="$OUT_DIR/$STAMP.md"; SUMMARY="$OUT_DIR/$STAMP.json"

busy_cores() {  # cores busy on the whole machine over $1 seconds (/proc/stat)
  python3 - "$1" <<'PY'
import sys, time
def snap():
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return sum(f), f[3] + f[4]  # total, idle + iowait
t1, i1 = snap(); time.sleep(float(sys.argv[1])); t2, i2 = snap()
import os
print(f"{(1 - (i2 - i1) / max(1, t2 - t1)) * os.cpu_count():.2f}")
PY
}

"$FP" --version >/dev/null  # builds the jars first only when the sources are newer than them
JAVA="$("$FP" java-home)/bin/java"
before_busy=$(busy_cores 5)
before_load=$(cut -d' ' -f1-3 /proc/loadavg)

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
declare -A PORT PID
wait_port() {  # port name log
  for _ in $(seq 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.2; done  # 2 min: a busy machine
  echo "run.sh: $2 did not start; its log:" >&2; cat "$3" >&2; exit 1
}
# bin/framepipe execs java (and taskset execs its command), so $! is the JVM's process id: the one
# whose CPU the load generator reads.
for k in "${servers[@]}"; do
  case "$k" in
    raw) "${server_on[@]}" "$JAVA" "$RAW_SRC" --host 127.0.0.1 --port "$RAW_PORT" > "$TMP/raw.log" 2>&1 & PID[raw]=$!; PORT[raw]=$RAW_PORT ;;
    raw-project) "${server_on[@]}" "$FP" baseline --raw --bind-address 127.0.0.1 --port "$RAW_PROJECT_PORT" > "$TMP/raw-project.log" 2>&1 &
      PID[raw-project]=$!; PORT[raw-project]=$RAW_PROJECT_PORT ;;
    # the Netty jars of the tools (tools/target/lib), epoll; "compute": STATS answered from its values
    inline) "${server_on[@]}" "$JAVA" -cp "$ROOT/tools/target/lib/*" "$INLINE_SRC" "$INLINE_PORT" "$IO_THREADS" compute \
        > "$TMP/inline.log" 2>&1 & PID[inline]=$!; PORT[inline]=$INLINE_PORT ;;
    netty) "${server_on[@]}" "$FP" baseline --bind-address 127.0.0.1 --port "$BASE_PORT" --io-threads "$IO_THREADS" > "$TMP/netty.log" 2>&1 &
      PID[netty]=$!; PORT[netty]=$BASE_PORT ;;
    framepipe) "${server_on[@]}" "$FP" serve --bind-address 127.0.0.1 --frame-port "$FRAME_PORT" --http-port "$HTTP_PORT" --io-threads "$IO_THREADS" \
        > "$TMP/framepipe.log" 2>&1 & PID[framepipe]=$!; PORT[framepipe]=$FRAME_PORT ;;
  esac
  pids+=("${PID[$k]}")
done
for k in "${servers[@]}"; do wait_port "${PORT[$k]}" "$k" "$TMP/$k.log"; done
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$HTTP_PORT/health/ready" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$HTTP_PORT/health/ready" >/dev/null || { echo "framepipe did not get ready"; cat "$TMP/framepipe.log"; exit 1; }

scrape() {  # heap bytes, completed frames, GC pauses of the service right now
  curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | awk '
    /^pipeline_heap_allocated_bytes_total/ {h+=$2} /^pipeline_frames_completed_total/ {f+=$2}
    /^jvm_gc_pause_seconds_count/ {g+=$2} END {printf "%.0f %.0f %.0f\n", h, f, g}'
}

load() {  # server json extra-args...
  local key=$1 json=$2 status=0 verify=ids; shift 2
  [ "$key" = framepipe ] && [ "${CHECK_VALUES:-0}" = 1 ] && verify=values
  rm -f "$json"
  # A run with wrong or lost answers exits non-zero and still writes its JSON: the report marks the
  # scenario ERRORS and the script fails at the end. A run that wrote no JSON failed outright.
  "${client_on[@]}" "$FP" load --port "${PORT[$key]}" --server-pid "${PID[$key]}" --mix "$MIX" --connections "$CONNECTIONS" --depth "$DEPTH" \
    --duration "$DURATION" --warmup "$WARMUP" --verify "$verify" --json "$json" "$@" > "${json%.json}.log" 2>&1 || status=$?
  if [ ! -s "$json" ]; then
    echo "run.sh: the load run against $key failed (exit status $status) and wrote no result; its log:" >&2
    cat "${json%.json}.log" >&2
    exit 1
  fi
  python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(f'   {sys.argv[2]:<11} {j[\"frames_per_second\"]:>13,.0f} frames/s  server {j[\"server_cpu_cores\"] or 0:.2f} cores  client {j[\"client_cpu_cores\"] or 0:.2f} cores  p99 {j[\"p99_us\"]:,.0f} us')" "$json" "$key"
}

# framepipe's heap and GC are read from /metrics when the warm-up ends and a second before the
# measured time ends, while every connection is still open: the steady state that the load
# generator measures, without what opening and closing its connections costs (a few KB each, which
# per frame weighs only where frames are few, as with 4 MiB frames).
load_framepipe() {  # json extra-args...
  local json=$1; shift
  load framepipe "$json" "$@" &
  local pid=$! d=${DURATION%s}
  sleep "${WARMUP%s}"
  read -r h1 f1 g1 < <(scrape)
  sleep $(( d > 2 ? d - 1 : 1 ))
  read -r h2 f2 g2 < <(scrape)
  wait "$pid" || exit 1  # load() said why
  heap=$((heap + h2 - h1)); heap_frames=$((heap_frames + f2 - f1)); gcs=$((gcs + g2 - g1))
}

ids=()
for conf in "$ROOT"/load-tests/scenarios/*.conf; do
  id=$(basename "$conf" .conf)
  if [ $# -gt 0 ]; then match=0; for p in "$@"; do [[ "$id" == "$p"* ]] && match=1; done; [ $match = 1 ] || continue; fi
  NAME= MIX= CONNECTIONS= DEPTH= COMPARE= TARGET= PER_CORE_TARGET= RATE_OF= RATE_FRACTION= P99_RATIO_TARGET=
  # shellcheck disable=SC1090
  source "$conf"
  echo "== $id: $NAME"
  extra=() rate=0 client=$CLIENT
  if [ "$COMPARE" = latency ]; then
    # Open loop (only the Netty client paces requests) at a fraction of framepipe's own maximum,
    # every server at that same rate.
    ls "$TMP/$RATE_OF"-framepipe-r*.json >/dev/null 2>&1 \
      || { echo "run.sh: $id needs $RATE_OF in the same run (its rate is a fraction of framepipe's maximum there)" >&2; exit 2; }
    max=$(python3 -c "import json,sys,statistics;print(statistics.median(json.load(open(f))['frames_per_second'] for f in sys.argv[1:]))" "$TMP/$RATE_OF"-framepipe-r*.json)
    rate=$(python3 -c "print(round($max * $RATE_FRACTION))")
    client=netty
  fi
  extra=(--client "$client")
  [ "$rate" != 0 ] && extra+=(--rate "$rate")
  rm -f "$TMP/$id"-*-r*.json
  heap=0 heap_frames=0 gcs=0
  n=${#servers[@]}
  for r in $(seq "$ROUNDS"); do
    echo " round $r"
    for i in $(seq 0 $((n - 1))); do
      k=${servers[$(( (i + r - 1) % n ))]}
      if [ "$k" = framepipe ]; then load_framepipe "$TMP/$id-$k-r$r.json" "${extra[@]}"
      else load "$k" "$TMP/$id-$k-r$r.json" "${extra[@]}"; fi
    done
  done
  python3 - "$TMP/$id.meta.json" <<PY
import json, sys
num = lambda s: float(s) if s else None
json.dump({"name": """$NAME""", "mix": "$MIX", "connections": $CONNECTIONS, "depth": $DEPTH, "compare": "$COMPARE",
           "target": num("$TARGET"), "per_core_target": num("$PER_CORE_TARGET"), "p99_ratio_target": num("$P99_RATIO_TARGET"),
           "rate": $rate, "client": "$client", "heap_bytes": $heap, "heap_frames": $heap_frames, "gc_pauses": $gcs},
          open(sys.argv[1], "w"))
PY
  ids+=("$id")
done
[ ${#ids[@]} -gt 0 ] || { echo "run.sh: no scenario matches $*" >&2; exit 2; }

after_load=$(cut -d' ' -f1-3 /proc/loadavg)
cleanup; pids=()
after_busy=$(busy_cores 5)
overrides=$(env | grep '^FRAMEPIPE_' | sort | tr '\n' ' ' || true)
inline_note=; [[ " $SERVERS " == *" inline "* ]] && inline_note="
inline = \`java ../shared/tools/raw-baseline/InlineNetty.java PORT $IO_THREADS compute\` (Netty epoll, every read answered in
place on its I/O threads, STATS by a scalar loop, no limits or metrics)."
checked="ids, order, kinds and sizes"; [ "${CHECK_VALUES:-0}" = 1 ] && checked="$checked, framepipe's values too (every 16th)"
changed=; git -C "$ROOT" diff --quiet HEAD -- . ':!load-tests/results' 2>/dev/null || changed=" (with changes not committed)"
placement="client and servers sharing them"
[ -n "$SERVER_CPUS" ] && placement="servers on CPU(s) $SERVER_CPUS, the client on CPU(s) $CLIENT_CPUS (taskset)"
facts="Run $STARTED to $(date -u '+%H:%M') UTC on $(nproc) cores ($(uname -m)), $placement.
Conditions: other work on the machine kept $before_busy of its $(nproc) cores busy before the run and $after_busy after it
(5 s each, \`/proc/stat\`, servers stopped); load average $before_load before, $after_load at the end.
Command: \`${overrides}${SERVER_CPUS:+SERVER_CPUS=$SERVER_CPUS CLIENT_CPUS=$CLIENT_CPUS }DURATION=$DURATION WARMUP=$WARMUP ROUNDS=$ROUNDS CLIENT=$CLIENT load-tests/run.sh $*\`
(servers: ${SERVERS}; the Netty servers with $IO_THREADS I/O threads).
Commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$changed.
Servers: raw = \`java ../shared/tools/raw-baseline/BaselineServer.java\` (blocking, one thread per connection,
computing nothing); netty = \`framepipe baseline\` (Netty, computing nothing); framepipe = \`framepipe serve\`.${inline_note}
Client: \`framepipe load --client $CLIENT\` in closed loop (scenario's connections x frames in flight), \`--client netty
--rate\` in open loop; answers checked for $checked."
bad=$(python3 "$ROOT/load-tests/report.py" --tmp "$TMP" --ids "${ids[*]}" --servers "$SERVERS" --rounds "$ROUNDS" \
  --report "$REPORT" --summary "$SUMMARY" --title-facts "$facts")

# The charts, made from the summary; each must exist and be well-formed SVG.
mapfile -t charts < <("$FP" chart load "$SUMMARY")
[ ${#charts[@]} -gt 0 ] || { echo "run.sh: framepipe chart wrote no chart" >&2; exit 1; }
python3 - "${charts[@]}" <<'PY' || { echo "run.sh: a chart is not well-formed SVG" >&2; exit 1; }
import sys, xml.etree.ElementTree as ET
for f in sys.argv[1:]:
    root = ET.parse(f).getroot()
    assert root.tag.endswith("svg"), f"{f}: root element {root.tag}"
PY
{
  echo
  echo "## Charts"
  echo
  echo "Made from \`$(basename "$SUMMARY")\` by \`framepipe chart load\`."
  echo
  for c in "${charts[@]}"; do echo "![$(basename "$c" .svg)]($(basename "$c"))"; echo; done
  echo "Heap B/frame: change of \`pipeline_heap_allocated_bytes_total\` (I/O and worker threads) over"
  echo "\`pipeline_frames_completed_total\` from the end of the warm-up to a second before the end of each framepipe run (connections open), all"
  echo "rounds; GC pauses: change of \`jvm_gc_pause_seconds_count\` over the same windows. Hiccups: the load"
  echo "generator's hiccup meter, a thread that sleeps 1 ms at a time, over the measured part of each run: how"
  echo "late it woke. Frames in flight during a stall of the machine wait at least as long as the stall,"
  echo "whatever serves them, so a latency tail near these figures is set by the machine, not by the server."
  echo "Per-run logs and JSON: \`load-tests/results/tmp/\`."
} >> "$REPORT"
cat "$REPORT"
echo "report: $REPORT"
if [ -n "$bad" ]; then
  echo "run.sh: wrong or lost answers in scenario(s) $bad; see the lines above and $REPORT" >&2
  exit 1
fi
