#!/usr/bin/env bash
# ci-check.sh - framepipe's /metrics against a real Prometheus server (.ci/run calls it
# after the test suite). On loopback only, with free ports and a temporary storage directory:
#
#   1. installs Debian's `prometheus` package when `prometheus`/`promtool` are missing (its
#      system service is kept from starting: ours runs on a free port with our own config;
#      install-tools.sh, shared with rules-check.sh);
#   2. starts the service (bin/framepipe serve, any free ports) and a Prometheus scraping it
#      every second and evaluating the alerting rules (alerts.yml) every second; runs one GC in
#      the service (jcmd GC.run), so the GC panels' series exist however light the load;
#   3. sends a bounded open-loop load (--rate, default 2000 frames/s, for LOAD_SECONDS);
#   4. checks through Prometheus' HTTP API: the target is up; heap bytes per frame
#      (sum(rate(heap)) / sum(rate(completed))) is a finite number; every query of the Grafana
#      dashboard evaluates without error to a non-empty result; every alerting rule evaluates
#      without error on the real series;
#   5. `promtool check metrics` passes on a scrape (text format 0.0.4), warnings included.
#
#   docker/prometheus/ci-check.sh                   LOAD_SECONDS=40 RATE=2000 by default
#   RATE=0 MIX=stats:64 CONNECTIONS=8 DEPTH=128 LOAD_SECONDS=30 docker/prometheus/ci-check.sh
#                                                   the same at full (closed-loop) load
#
# Every wait has a timeout; the service, Prometheus and the load generator are killed on exit.
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
LOAD_SECONDS=${LOAD_SECONDS:-40}
RATE=${RATE:-2000}
MIX=${MIX:-stats:64@4,scale:64,upper:64@2,lower:64,count:256,ping:16}
CONNECTIONS=${CONNECTIONS:-4}
DEPTH=${DEPTH:-32}
DASHBOARD=$REPO/docker/grafana/dashboards/framepipe-overview.json
START=$(date +%s)
TMP=$(mktemp -d /tmp/framepipe-prom.XXXXXX)
pids=()

log() { echo "[prometheus-check $(( $(date +%s) - START ))s] $*"; }
fail() {
  echo "[prometheus-check] FAIL: $*" >&2
  for f in serve.log prometheus.log load.log; do
    [ -s "$TMP/$f" ] && { echo "--- $f" >&2; tail -20 "$TMP/$f" | sed 's/^/  | /' >&2; }
  done
  exit 1
}
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

# ---- Prometheus, from Debian -----------------------------------------------------------------
"$REPO/docker/prometheus/install-tools.sh" prometheus promtool jq || fail "installing prometheus and jq"

free_port() {  # a loopback port no socket uses (listening, connected or in TIME_WAIT), below the
               # ephemeral range that client connections take their local ports from
  local p low span
  low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  span=$(( low - 20000 )); [ "$span" -ge 1000 ] || span=20000
  for _ in $(seq 100); do
    p=$(( 20000 + RANDOM % span ))
    if command -v ss > /dev/null; then
      [ -z "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ] && { echo "$p"; return 0; }
    elif ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"; return 0
    fi
  done
  return 1
}

# ---- the service -----------------------------------------------------------------------------
# (bin/framepipe builds the jar first only when the sources are newer; after the suite it is not)
# max-connection-age 0: the load's connections outlive the default 45s +-10%, and the load
# generator does not reconnect (a connection retiring is proven by MaxConnectionAgeTest and the
# rolling restart, not here)
"$REPO/bin/framepipe" serve --bind-address 127.0.0.1 --frame-port 0 --http-port 0 --max-connection-age 0 \
  > "$TMP/serve.log" 2>&1 &
SERVE_PID=$!  # the JVM itself: bin/framepipe execs java
pids+=($SERVE_PID)
for _ in $(seq 120); do grep -q "framepipe ready" "$TMP/serve.log" && break; sleep 0.5; done
ready=$(grep -o "framepipe ready: frames on [0-9]*, http on [0-9]*" "$TMP/serve.log") || fail "service not ready in 60 s"
FRAME_PORT=$(echo "$ready" | awk '{print $5}' | tr -d ,)
HTTP_PORT=$(echo "$ready" | awk '{print $8}')
log "service ready: frames on $FRAME_PORT, http on $HTTP_PORT"
# jvm_gc_pause_seconds appears with the first collection, which a light load may not cause.
"$("$REPO/bin/framepipe" java-home)/bin/jcmd" "$SERVE_PID" GC.run > "$TMP/jcmd.log" 2>&1 \
  || { cat "$TMP/jcmd.log" >&2; fail "jcmd GC.run (a GC before the load)"; }

# ---- Prometheus ------------------------------------------------------------------------------
PROM_PORT=$(free_port) || fail "no free port for Prometheus"
PROM=http://127.0.0.1:$PROM_PORT
cat > "$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $REPO/docker/prometheus/alerts.yml
scrape_configs:
  - job_name: framepipe
    static_configs:
      - targets: ["127.0.0.1:$HTTP_PORT"]
EOF
promtool check config "$TMP/prometheus.yml" >/dev/null || fail "promtool check config"
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn > "$TMP/prometheus.log" 2>&1 &
pids+=($!)
for _ in $(seq 60); do curl -sf "$PROM/-/ready" >/dev/null && break; sleep 0.5; done
curl -sf "$PROM/-/ready" >/dev/null || fail "Prometheus not ready in 30 s"
log "Prometheus $(prometheus --version 2>&1 | awk 'NR==1 {print $3}') on $PROM_PORT"

# ---- load ------------------------------------------------------------------------------------
log "load: $MIX at $RATE frames/s (0: closed loop) for ${LOAD_SECONDS}s"
LOAD_START=$(date +%s)
timeout $(( LOAD_SECONDS + 60 )) "$REPO/bin/framepipe" load --port "$FRAME_PORT" --rate "$RATE" \
  --mix "$MIX" --connections "$CONNECTIONS" --depth "$DEPTH" \
  --warmup 1s --duration "${LOAD_SECONDS}s" > "$TMP/load.log" 2>&1 || fail "load generator failed"
# Every check below evaluates at this instant: the last second of the load, so [30s] windows
# are full of it (results do not depend on how long the checks themselves take).
AT=$(( LOAD_START + 1 + LOAD_SECONDS - 1 ))
log "load done: $(grep -m1 '^throughput' "$TMP/load.log" | tr -s ' ' || true)"

query() {  # expr → the JSON result array (fails on an API error)
  local out
  out=$(curl -sf --max-time 10 "$PROM/api/v1/query" --data-urlencode "query=$1" --data-urlencode "time=$AT") \
    || fail "query failed: $1"
  [ "$(jq -r .status <<<"$out")" = success ] || fail "query error: $1: $out"
  jq -c .data.result <<<"$out"
}
scalar() {  # expr with one result → its value
  local r; r=$(query "$1")
  [ "$(jq length <<<"$r")" = 1 ] || fail "expected one series from $1, got $r"
  jq -r '.[0].value[1]' <<<"$r"
}
finite() { [[ "$1" =~ ^-?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?$ ]]; }

# ---- checks through the HTTP API -------------------------------------------------------------
targets=$(curl -sf --max-time 10 "$PROM/api/v1/targets") || fail "/api/v1/targets"
health=$(jq -r '[.data.activeTargets[] | select(.labels.job == "framepipe") | .health] | join(",")' <<<"$targets")
[ "$health" = up ] || fail "target health '$health': $(jq -c '.data.activeTargets' <<<"$targets")"
log "target up"

frames=$(scalar 'sum(rate(pipeline_frames_completed_total[30s]))')
finite "$frames" && awk -v f="$frames" -v r="$RATE" 'BEGIN {exit !(f > r / 2)}' \
  || fail "frames/s $frames while the load sent $RATE/s"
per_frame=$(scalar 'sum(rate(pipeline_heap_allocated_bytes_total[30s])) / sum(rate(pipeline_frames_completed_total[30s]))')
finite "$per_frame" || fail "heap bytes per frame is '$per_frame', not a number"
io_per_frame=$(scalar 'sum(rate(pipeline_heap_allocated_bytes_total{threads="io"}[30s])) / sum(rate(pipeline_frames_completed_total[30s]))')
p99=$(scalar 'histogram_quantile(0.99, sum by (le) (rate(pipeline_frame_duration_seconds_bucket[30s])))')
finite "$p99" || fail "p99 frame duration is '$p99'"
log "frames/s $frames; heap bytes/frame $per_frame (io threads $io_per_frame); p99 ${p99}s"

# Every query of the dashboard, as Grafana would send it.
n=0
while IFS= read -r expr; do
  e=${expr//\$__rate_interval/30s}
  e=${e//\$job/.*}
  r=$(query "$e")
  [ "$(jq length <<<"$r")" -gt 0 ] || fail "dashboard query has no data: $expr"
  n=$((n + 1))
done < <(jq -r '.. | objects | .expr? // empty' "$DASHBOARD")
log "$n dashboard queries answered"

# Every alerting rule, evaluated by Prometheus on the real series (none is expected to fire:
# they all wait minutes): an evaluation error (a bad join, a type mismatch) shows as health "err".
rules=$(curl -sf --max-time 10 "$PROM/api/v1/rules?type=alert") || fail "/api/v1/rules"
n=$(jq '[.data.groups[].rules[]] | length' <<<"$rules")
[ "$n" -gt 0 ] || fail "Prometheus loaded no alerting rules"
bad=$(jq -c '[.data.groups[].rules[] | select(.health != "ok") | {name, health, lastError}]' <<<"$rules")
[ "$bad" = "[]" ] || fail "alerting rules that do not evaluate: $bad"
log "$n alerting rules evaluate (firing: $(jq -r '[.data.groups[].rules[] | select(.state == "firing") | .name] | join(", ") | if . == "" then "none" else . end' <<<"$rules"))"
# Each alert's expression without its threshold (the final comparison) must find series in the
# real data: a metric name or a label join that matches nothing would keep the alert silent for
# good. Rules on framepipe_build_info wait until the service exposes it.
has_build_info=$(query 'count(framepipe_build_info)')
while IFS=$'\t' read -r name expr; do
  if [[ "$expr" == *framepipe_build_info* && "$has_build_info" == "[]" ]]; then
    log "alert $name: skipped, the service does not expose framepipe_build_info yet"
    continue
  fi
  [ "$(jq length <<<"$(query "$expr")")" -gt 0 ] || fail "alert $name: no series for $expr"
done < <(jq -r '.data.groups[].rules[] | [.name, (.query | sub("\\s*(>|==)\\s*[0-9.]+\\s*$"; ""))] | @tsv' <<<"$rules")
log "every alert's expression (threshold left out) finds series"

# ---- promtool on a scrape --------------------------------------------------------------------
curl -sf --max-time 10 "http://127.0.0.1:$HTTP_PORT/metrics" > "$TMP/scrape.txt" || fail "scrape"
promtool check metrics < "$TMP/scrape.txt" > "$TMP/promtool.txt" 2>&1 \
  || { cat "$TMP/promtool.txt" >&2; fail "promtool check metrics"; }
log "promtool check metrics: clean ($(grep -c '^# TYPE' "$TMP/scrape.txt") families)"
log "PASS in $(( $(date +%s) - START ))s"
