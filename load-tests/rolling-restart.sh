#!/usr/bin/env bash
# A rolling restart under load behind a real load balancer, as an operator does it for a release:
# REPLICAS replicas of `bin/framepipe serve` on loopback behind HAProxy (Debian's package,
# installed when missing; run here as a process of this script, never as a system service) in
# TCP mode with health checks on GET /health/ready; Java ReconnectingClients (`framepipe
# restart-load`) and Python ReconnectingClients (clients/python) keep requests in flight through
# it, checking every answer; each replica in turn is SIGTERMed, waited for, started again and
# waited for until HAProxy has it UP. Writes a Markdown report to
# load-tests/results/rolling-restart-<UTC date and time>.md (or $REPORT): requests, failures,
# resends, server-completed against client-answered per replica, p99 steady against around
# restarts, connections per replica over time, and verdicts against the targets.
#
#   load-tests/rolling-restart.sh                 the full run (about 8 minutes on a busy 2-core machine)
#   BRIEF=1 load-tests/rolling-restart.sh         a short run (about 3.5 minutes: shorter pauses,
#                                                 max-connection-age 10s, fewer warm-up rounds)
# Environment (defaults of the full run; BRIEF=1 changes those marked *):
#   CLIENTS=8 DEPTH=64        Java reconnecting clients and requests in flight each
#   PY_CLIENTS=2* PY_DEPTH=16 Python reconnecting clients (0: none) and requests in flight each
#   REPLICAS=3                replicas behind HAProxy
#   DURATION=0                shortest load time in seconds (or 5min, 300s); the load always runs
#                             until SPREAD_AFTER seconds after the last restart
#   STEADY=60* PAUSE=20*      seconds of load before the first restart; pause after each replica is UP
#   SPREAD_AFTER=60*          when, after the last restart, connections must be spread evenly
#   INTER_MS=500              HAProxy's health-check interval (fall 2, rise 2)
#   SERVE_ARGS=""*            extra `serve` flags for every replica (BRIEF: --max-connection-age 10s
#                             --warmup-rounds 2000)
#   LB_PORT=17390 FRAME_BASE=17391 HTTP_BASE=19391   ports (replica i: FRAME_BASE+i, HTTP_BASE+i)
#   REPORT=path               where the report goes
#
# Exit status: 0 when the targets that must hold held (no failed request, server-completed =
# client-answered, no connection refused by a draining replica); 1 when one did not (the report
# says which); 2 a bad setting. A SHUTTING_DOWN for every connection the servers ended, the p99
# ratio and the spread are reported as PASS or MISS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FP="$ROOT/bin/framepipe"
HELPER="$ROOT/load-tests/rolling-restart.py"

BRIEF=${BRIEF:-0}
if [ "$BRIEF" = 1 ]; then
  STEADY=${STEADY:-15}; PAUSE=${PAUSE:-5}; SPREAD_AFTER=${SPREAD_AFTER:-20}; PY_CLIENTS=${PY_CLIENTS:-1}
  SERVE_ARGS=${SERVE_ARGS:---max-connection-age 10s --warmup-rounds 2000}
else
  STEADY=${STEADY:-60}; PAUSE=${PAUSE:-20}; SPREAD_AFTER=${SPREAD_AFTER:-60}; PY_CLIENTS=${PY_CLIENTS:-2}
  SERVE_ARGS=${SERVE_ARGS:-}
fi
CLIENTS=${CLIENTS:-8}; DEPTH=${DEPTH:-64}; PY_DEPTH=${PY_DEPTH:-16}; REPLICAS=${REPLICAS:-3}
DURATION=${DURATION:-0}; INTER_MS=${INTER_MS:-500}
LB_PORT=${LB_PORT:-17390}; FRAME_BASE=${FRAME_BASE:-17391}; HTTP_BASE=${HTTP_BASE:-19391}

bad() { echo "rolling-restart: $*" >&2; exit 2; }
for v in CLIENTS DEPTH REPLICAS STEADY PAUSE SPREAD_AFTER INTER_MS LB_PORT FRAME_BASE HTTP_BASE; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || bad "$v must be a positive whole number, not '${!v}'"
done
for v in PY_CLIENTS PY_DEPTH; do [[ "${!v}" =~ ^[0-9]+$ ]] || bad "$v must be a whole number, not '${!v}'"; done
[ "$PY_CLIENTS" = 0 ] || [ "$PY_DEPTH" -ge 1 ] || bad "PY_DEPTH must be at least 1"
[ "$REPLICAS" -ge 2 ] || bad "REPLICAS must be at least 2 (one must serve while another restarts)"
case "$DURATION" in  # seconds, or with a unit: 300, 300s, 5min, 5m
  *min) DURATION_S=$(( ${DURATION%min} * 60 ));; *m) DURATION_S=$(( ${DURATION%m} * 60 ));;
  *s) DURATION_S=${DURATION%s};; *) DURATION_S=$DURATION;;
esac
[[ "$DURATION_S" =~ ^[0-9]+$ ]] || bad "DURATION must be seconds (300), 300s or 5min, not '$DURATION'"
STAMP=$(date -u +%Y-%m-%d-%H%M)
KIND=; [ "$BRIEF" = 1 ] && KIND=brief-
REPORT=${REPORT:-$ROOT/load-tests/results/rolling-restart-$KIND$STAMP.md}
mkdir -p "$(dirname "$REPORT")"

# ---- HAProxy: Debian's package. Installing it must not leave a system service running. ----
if ! command -v haproxy >/dev/null; then
  echo "rolling-restart: installing haproxy (Debian package)" >&2
  before=$(pidof haproxy || true)
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get install -y -q haproxy >/dev/null 2>&1 \
    || { timeout 300 apt-get update -q >/dev/null 2>&1; timeout 600 apt-get install -y -q haproxy >/dev/null; } \
    || bad "could not install haproxy (apt-get install -y haproxy)"
  # Where an init system started the packaged service, stop it: this script runs its own.
  if [ -z "$before" ] && [ -n "$(pidof haproxy || true)" ]; then
    (invoke-rc.d haproxy stop || service haproxy stop) >/dev/null 2>&1 || true
  fi
fi
HAPROXY_VERSION=$(haproxy -v | sed -n 's/^HAProxy version \([^ ]*\).*/\1/p')

for p in "$LB_PORT" $(seq "$FRAME_BASE" $((FRAME_BASE + REPLICAS - 1))) $(seq "$HTTP_BASE" $((HTTP_BASE + REPLICAS - 1))); do
  if ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then bad "port $p is in use (set LB_PORT, FRAME_BASE, HTTP_BASE)"; fi
done

"$FP" restart-load --version >/dev/null  # builds the jars when the sources are newer

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rolling-restart.XXXXXX")
SOCK="$WORK/haproxy.sock"
declare -a PID GEN NAMES
HAPROXY_PID= MONITOR_PID= JAVA_PID= PY_PID=
cleanup() {
  local p
  for p in "$JAVA_PID" "$PY_PID" "$MONITOR_PID" "${PID[@]:-}"; do
    [ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true
  done
  for p in "$JAVA_PID" "$PY_PID" "$MONITOR_PID" "${PID[@]:-}"; do
    [ -n "$p" ] || continue
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$p" 2>/dev/null || true
  done
  [ -n "$HAPROXY_PID" ] && kill -TERM "$HAPROXY_PID" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ev() { echo "$(date +%s%3N) $1 $2 $3" >> "$WORK/events.txt"; }  # event replica generation
log() { echo "rolling-restart: $(date -u +%H:%M:%S) $*" >&2; }

start_replica() {  # index generation
  local i=$1 name=${NAMES[$1]}
  GEN[$i]=$2
  "$FP" serve --bind-address 127.0.0.1 --frame-port $((FRAME_BASE + i)) --http-port $((HTTP_BASE + i)) $SERVE_ARGS \
    >> "$WORK/$name.log" 2>&1 &
  PID[$i]=$!  # bin/framepipe execs java: this is the JVM
  ev started "$name" "$2"
}

wait_ready() {  # index: /health/ready 200, then the counters before any traffic can arrive
  local i=$1 name=${NAMES[$1]} code
  for _ in $(seq 1800); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((HTTP_BASE + i))/health/ready" || true)
    [ "$code" = 200 ] && break
    kill -0 "${PID[$i]}" 2>/dev/null || { tail -20 "$WORK/$name.log" >&2; bad "replica $name exited while starting"; }
    sleep 0.1
  done
  [ "$code" = 200 ] || { tail -20 "$WORK/$name.log" >&2; echo "rolling-restart: $name not ready after 180 s" >&2; exit 1; }
  ev ready "$name" "${GEN[$i]}"
  python3 "$HELPER" scrape $((HTTP_BASE + i)) > "$WORK/baseline-$name-${GEN[$i]}.json"
}

stop_replica() {  # index: SIGTERM through the helper (it reads the last counters), wait for the exit
  local i=$1 name=${NAMES[$1]} helper status=0
  python3 "$HELPER" stop "$name" "${PID[$i]}" $((FRAME_BASE + i)) $((HTTP_BASE + i)) "$SOCK" \
    "$WORK/stop-$name-${GEN[$i]}.json" &
  helper=$!
  wait "${PID[$i]}" || status=$?
  ev exited "$name" "${GEN[$i]}"
  wait "$helper" || { echo "rolling-restart: reading $name's last counters failed" >&2; exit 1; }
  python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['sigterm_ms'], 'sigterm', sys.argv[2], sys.argv[3])" \
    "$WORK/stop-$name-${GEN[$i]}.json" "$name" "${GEN[$i]}" >> "$WORK/events.txt"
  [ "$status" = 0 ] || { tail -20 "$WORK/$name.log" >&2; echo "rolling-restart: $name exited with status $status after SIGTERM" >&2; exit 1; }
  PID[$i]=
}

for i in $(seq 0 $((REPLICAS - 1))); do NAMES[$i]="r$((i + 1))"; done
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
log "work directory $WORK; load average $LOADAVG; starting ${REPLICAS} replicas"
for i in "${!NAMES[@]}"; do start_replica "$i" 0; done
for i in "${!NAMES[@]}"; do wait_ready "$i"; done

{
  cat <<EOF
global
    log stdout format raw local0 info
    stats socket $SOCK mode 600 level admin
    maxconn 4000

defaults
    mode tcp
    log global
    option log-health-checks
    option redispatch
    retries 3
    timeout connect 2s
    timeout client 10m
    timeout server 10m
    timeout check 2s

frontend framepipe
    bind 127.0.0.1:$LB_PORT
    # one line per connection when it ends: %rc counts connect retries (+ when redispatched)
    log-format "conn %Ts.%ms %ci:%cp %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc"
    default_backend replicas

backend replicas
    # long-lived connections: a new one goes to the replica with the fewest
    balance leastconn
    option httpchk
    http-check send meth GET uri /health/ready ver HTTP/1.1 hdr Host localhost
    http-check expect status 200
    default-server inter ${INTER_MS}ms fall 2 rise 2
EOF
  for i in "${!NAMES[@]}"; do
    echo "    server ${NAMES[$i]} 127.0.0.1:$((FRAME_BASE + i)) check port $((HTTP_BASE + i))"
  done
} > "$WORK/haproxy.cfg"
haproxy -c -q -f "$WORK/haproxy.cfg" || bad "HAProxy rejected $WORK/haproxy.cfg"
haproxy -db -f "$WORK/haproxy.cfg" > "$WORK/haproxy.log" 2>&1 &
HAPROXY_PID=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
for i in "${!NAMES[@]}"; do python3 "$HELPER" haproxy-wait "$SOCK" "${NAMES[$i]}" UP 30 > /dev/null; done

monitor_args=()
for i in "${!NAMES[@]}"; do monitor_args+=("${NAMES[$i]}=$((HTTP_BASE + i))"); done
python3 "$HELPER" monitor "$SOCK" "$WORK/samples.jsonl" "${monitor_args[@]}" &
MONITOR_PID=$!

log "load through HAProxy: $CLIENTS Java clients x $DEPTH, $PY_CLIENTS Python clients x $PY_DEPTH"
LOAD_START=$(date +%s)
"$FP" restart-load --port "$LB_PORT" --clients "$CLIENTS" --depth "$DEPTH" --duration 2h --json "$WORK/java.json" \
  > "$WORK/java.log" 2>&1 &
JAVA_PID=$!
if [ "$PY_CLIENTS" -gt 0 ]; then
  python3 "$HELPER" pyload 127.0.0.1 "$LB_PORT" "$PY_CLIENTS" "$PY_DEPTH" "$WORK/python.json" > "$WORK/python.log" 2>&1 &
  PY_PID=$!
fi
sleep "$STEADY"

for i in "${!NAMES[@]}"; do
  name=${NAMES[$i]}
  kill -0 "$JAVA_PID" 2>/dev/null || { cat "$WORK/java.log" >&2; echo "rolling-restart: the Java load ended early" >&2; exit 1; }
  log "restarting $name: SIGTERM"
  stop_replica "$i"
  log "$name exited; starting it again"
  # Held in HAProxy's maintenance state until its counters are read at ready: otherwise HAProxy's
  # own checks can send it traffic before that reading under a loaded machine, and the reading
  # would no longer be the process's zero point. Then back to the health checks' verdict.
  python3 "$HELPER" haproxy-cmd "$SOCK" "set server replicas/$name state maint"
  start_replica "$i" $(( ${GEN[$i]} + 1 ))
  wait_ready "$i"
  python3 "$HELPER" haproxy-cmd "$SOCK" "set server replicas/$name state ready"
  python3 "$HELPER" haproxy-wait "$SOCK" "$name" UP 60 | { read -r t; echo "$t up $name ${GEN[$i]}" >> "$WORK/events.txt"; }
  log "$name is UP in HAProxy"
  LAST_UP=$(date +%s)
  [ "$i" = $((REPLICAS - 1)) ] || sleep "$PAUSE"
done

# The load goes on until SPREAD_AFTER (+5 s) after the last restart, and at least DURATION.
end=$(( LAST_UP + SPREAD_AFTER + 5 )); [ $(( LOAD_START + DURATION_S )) -gt "$end" ] && end=$(( LOAD_START + DURATION_S ))
left=$(( end - $(date +%s) )); [ "$left" -gt 0 ] && { log "load for $left s more"; sleep "$left"; }

log "stopping the load"
load_status=0
kill -TERM "$JAVA_PID"; wait "$JAVA_PID" || load_status=$?; JAVA_PID=
if [ -n "$PY_PID" ]; then kill -TERM "$PY_PID"; wait "$PY_PID" || load_status=$?; PY_PID=; fi
sleep 1.5  # a last sample of the idle replicas
for i in "${!NAMES[@]}"; do stop_replica "$i"; done
python3 "$HELPER" haproxy-stat "$SOCK" > "$WORK/haproxy-end.json"
kill -TERM "$MONITOR_PID"; wait "$MONITOR_PID" || true; MONITOR_PID=
kill -TERM "$HAPROXY_PID"; wait "$HAPROXY_PID" || true; HAPROXY_PID=

gens="{"; for i in "${!NAMES[@]}"; do gens+="\"${NAMES[$i]}\": ${GEN[$i]},"; done; gens="${gens%,}}"
cat > "$WORK/conf.json" <<EOF
{"replicas": [$(printf '"%s",' "${NAMES[@]}" | sed 's/,$//')], "generations": $gens,
 "clients": $CLIENTS, "depth": $DEPTH, "py_clients": $PY_CLIENTS, "py_depth": $PY_DEPTH,
 "brief": $([ "$BRIEF" = 1 ] && echo true || echo false), "pause_s": $PAUSE, "warmup_s": 10,
 "around_after_up_s": 10, "spread_after_s": $SPREAD_AFTER, "table_every_s": $([ "$BRIEF" = 1 ] && echo 5 || echo 10),
 "inter_ms": $INTER_MS, "serve_args": "$SERVE_ARGS", "haproxy_version": "$HAPROXY_VERSION",
 "loadavg": "$LOADAVG", "commit": "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)",
 "command": "$( [ "$BRIEF" = 1 ] && echo "BRIEF=1 " || true)load-tests/rolling-restart.sh",
 "settings": "CLIENTS=$CLIENTS DEPTH=$DEPTH PY_CLIENTS=$PY_CLIENTS PY_DEPTH=$PY_DEPTH REPLICAS=$REPLICAS DURATION=$DURATION STEADY=$STEADY PAUSE=$PAUSE SPREAD_AFTER=$SPREAD_AFTER INTER_MS=$INTER_MS"}
EOF
status=0
python3 "$HELPER" report "$WORK" "$REPORT" || status=$?
[ "$load_status" = 0 ] || { echo "rolling-restart: a load client exited with status $load_status (see the report)" >&2; status=1; }
echo "report: $REPORT"
exit "$status"
