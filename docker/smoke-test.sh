#!/usr/bin/env bash
# smoke-test.sh - builds the framepipe image from the repository's Dockerfile and checks that it
# runs as users expect: ready on /health/ready using the image's AOT cache, small when idle (it
# reports the time to ready and the idle resident memory, and fails above 256 MiB), answers frames
# of every kind, counts them in /metrics, runs as non-root with a read-only root file system and a
# memory limit, and on SIGTERM drains (closing an open connection cleanly) and exits 0.
#
#   docker/smoke-test.sh            engine: docker if its daemon answers, else podman
#   SMOKE_ENGINE=podman docker/smoke-test.sh
#
# With podman, when ../shared/tools/oci-standins.sh exists beside the repository (machines that
# cannot pull public images), it is run first ("prepare": local stand-ins tagged with the public
# base-image names) and its build/run flags are used. Every wait is bounded; the container and
# the previous smoke image are removed at the end. Needs: bash, curl, a JDK 25 for bin/framepipe.
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
SHARED=${FRAMEPIPE_SHARED:-$(dirname "$REPO")/shared}
IMAGE=${SMOKE_IMAGE:-localhost/framepipe:smoke}
NAME=framepipe-smoke-$$
BUILD_TIMEOUT=${SMOKE_BUILD_TIMEOUT:-480}
START=$(date +%s)

log() { echo "[smoke $(( $(date +%s) - START ))s] $*"; }
fail() { echo "[smoke] FAIL: $*" >&2; [ -n "${ENGINE:-}" ] && "$ENGINE" logs "$NAME" 2>&1 | tail -30 | sed 's/^/  | /' >&2 || true; exit 1; }

# ---- engine ----------------------------------------------------------------------------------
BUILD_FLAGS=() RUN_FLAGS=()
ENGINE=${SMOKE_ENGINE:-}
if [ -z "$ENGINE" ]; then
  if command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1; then ENGINE=docker; else ENGINE=podman; fi
fi
STANDINS=$SHARED/tools/oci-standins.sh
if [ "$ENGINE" = podman ] && [ -f "$STANDINS" ]; then   # run with bash: shared/ may lack exec bits
  log "preparing base-image stand-ins ($STANDINS prepare)"
  timeout 600 bash "$STANDINS" prepare
  eval "$(bash "$STANDINS" env)"
  read -r -a BUILD_FLAGS <<< "$OCI_BUILD_FLAGS"
  read -r -a RUN_FLAGS <<< "$OCI_RUN_FLAGS"
fi
command -v "$ENGINE" >/dev/null || fail "no container engine: neither a docker daemon nor podman"
if [ "$ENGINE" = podman ]; then
  BUILD_FLAGS+=(--format docker)   # keeps the Dockerfile's HEALTHCHECK (the OCI format drops it)
  # Reuse the host's Maven repository without writing to it (overlay mount; podman only).
  [ -d "$HOME/.m2/repository" ] && BUILD_FLAGS+=(-v "$HOME/.m2:/root/.m2:O")
fi
log "engine: $ENGINE $("$ENGINE" --version 2>/dev/null | head -1)"

# ---- build -------------------------------------------------------------------------------------
OLD_ID=$("$ENGINE" image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
cleanup() {
  "$ENGINE" rm -f -t 0 "$NAME" >/dev/null 2>&1 || "$ENGINE" rm -f "$NAME" >/dev/null 2>&1 || true
  NEW_ID=$("$ENGINE" image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
  # the image this run replaced, if nothing else uses it
  [ -n "$OLD_ID" ] && [ "$OLD_ID" != "$NEW_ID" ] && "$ENGINE" rmi "$OLD_ID" >/dev/null 2>&1 || true
}
trap cleanup EXIT
# The project's version (the parent POM's) and commit: build arguments for the labels, the jar's
# manifest and --version; the image is tagged with the version as well.
VERSION=$(sed -n 's|^  <version>\(.*\)</version>$|\1|p' "$REPO/pom.xml" | head -1)
REVISION=$(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown)
[ -n "$VERSION" ] || fail "no <version> in $REPO/pom.xml"
VERSION_IMAGE="${IMAGE%:*}:$VERSION"
log "building $IMAGE and $VERSION_IMAGE (commit $REVISION) from $REPO/Dockerfile"
BUILD_LOG=$(mktemp /tmp/framepipe-smoke-build.XXXXXX)
if ! timeout "$BUILD_TIMEOUT" "$ENGINE" build "${BUILD_FLAGS[@]}" \
      --build-arg VERSION="$VERSION" --build-arg REVISION="$REVISION" \
      -t "$IMAGE" -t "$VERSION_IMAGE" "$REPO" > "$BUILD_LOG" 2>&1; then
  tail -30 "$BUILD_LOG" >&2; fail "image build failed (log: $BUILD_LOG)"
fi
rm -f "$BUILD_LOG"
log "built $("$ENGINE" image inspect --format '{{.Id}}' "$IMAGE" | cut -c1-19)"
[ "$("$ENGINE" image inspect --format '{{.Id}}' "$VERSION_IMAGE" 2>/dev/null)" = "$("$ENGINE" image inspect --format '{{.Id}}' "$IMAGE")" ] \
  || fail "the image is not tagged $VERSION_IMAGE"
LABELS=$("$ENGINE" image inspect --format '{{index .Config.Labels "org.opencontainers.image.version"}} {{index .Config.Labels "org.opencontainers.image.revision"}}' "$IMAGE")
[ "$LABELS" = "$VERSION $REVISION" ] || fail "labels version/revision are '$LABELS', want '$VERSION $REVISION'"
# what the jar inside says: the version and the commit the image was built from. Exit statuses
# 125-127 are the engine's own (it could not create or start the container, as podman once did
# right after a build): one retry, and the engine's message is shown, not discarded.
VERSION_OUT=$(mktemp)
for attempt in 1 2; do
  status=0
  timeout 60 "$ENGINE" run --rm "${RUN_FLAGS[@]}" "$IMAGE" --version > "$VERSION_OUT" 2>&1 || status=$?
  if [ "$status" -ge 125 ] && [ "$status" -le 127 ] && [ "$attempt" = 1 ]; then
    log "the engine could not run the container (exit $status: $(tail -3 "$VERSION_OUT" | tr '\n' ' ')); once more"
    sleep 2
    continue
  fi
  break
done
[ "$status" = 0 ] || { cat "$VERSION_OUT" >&2; rm -f "$VERSION_OUT"; fail "--version in the image exited $status"; }
IMAGE_VERSION=$(grep -E '^(framepipe|commit) ' "$VERSION_OUT" | head -2 | tr '\n' ' ')
rm -f "$VERSION_OUT"
[ "$IMAGE_VERSION" = "framepipe $VERSION commit $REVISION " ] || fail "--version in the image: '$IMAGE_VERSION'"
log "ok  tagged $VERSION_IMAGE; labels and --version: $VERSION, commit $REVISION"

# ---- run ---------------------------------------------------------------------------------------
# A port no socket uses in any state: not only nothing listening, but no outgoing connection or
# TIME_WAIT entry either (those make bind fail too). Picked below the kernel's ephemeral range, from
# which the earlier CI steps' client connections took their local ports.
port_free() {
  if command -v ss > /dev/null; then
    [ -z "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]
  else
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}
pick_port() {   # away from the defaults other runs use, and below the ephemeral range
  local p i low span
  low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  span=$(( low - 20000 )); [ "$span" -ge 1000 ] || span=20000
  for i in $(seq 1 50); do p=$(( 20000 + RANDOM % span )); port_free "$p" && { echo "$p"; return; }; done
  fail "no free port found"
}
FRAME_PORT=$(pick_port); HTTP_PORT=$(pick_port)
[ "$FRAME_PORT" != "$HTTP_PORT" ] || HTTP_PORT=$(pick_port)
PORT_FLAGS=()
if printf '%s\n' "${RUN_FLAGS[@]}" | grep -q -- '--network=host'; then
  # host network: the container's ports are the host's; move them through the environment
  PORT_FLAGS=(-e "FRAMEPIPE_FRAME_PORT=$FRAME_PORT" -e "FRAMEPIPE_HTTP_PORT=$HTTP_PORT")
else
  PORT_FLAGS=(-p "127.0.0.1:$FRAME_PORT:7070" -p "127.0.0.1:$HTTP_PORT:9464")
fi
MEMORY=1g   # the Kubernetes manifests' limit (docker/k8s/deployment.yaml)
log "starting $NAME (frames on $FRAME_PORT, http on $HTTP_PORT, --read-only, --memory=$MEMORY)"
RUN_LOG=$(mktemp /tmp/framepipe-smoke-run.XXXXXX)   # podman without systemd complains about health timers
STARTED=$(date +%s%N)
timeout 60 "$ENGINE" run -d --name "$NAME" "${RUN_FLAGS[@]}" "${PORT_FLAGS[@]}" \
  --read-only --tmpfs /tmp --memory="$MEMORY" -e FRAMEPIPE_DRAIN_TIMEOUT=10s -e FRAMEPIPE_IO_THREADS=2 \
  "$IMAGE" > "$RUN_LOG" 2>&1 || { cat "$RUN_LOG" >&2; fail "container did not start"; }
rm -f "$RUN_LOG"

ready=""
for _ in $(seq 1 600); do   # at most ~60 s
  if curl -fsS --max-time 2 "http://127.0.0.1:$HTTP_PORT/health/ready" > /dev/null 2>&1; then ready=1; break; fi
  [ "$("$ENGINE" inspect --format '{{.State.Running}}' "$NAME" 2>/dev/null)" = true ] || fail "container exited before it was ready"
  sleep 0.1
done
[ -n "$ready" ] || fail "/health/ready did not answer 200 within 60 s"
READY_MS=$(( ($(date +%s%N) - STARTED) / 1000000 ))
log "ready $READY_MS ms after \`$ENGINE run\`"
curl -fsS --max-time 5 "http://127.0.0.1:$HTTP_PORT/health/live" > /dev/null || fail "/health/live"
# The jar manifest's Add-Exports reaches `java -jar` in the image: the ring runs its Unsafe slots.
# The logs are read whole first: with pipefail, a grep that stops at its first match can make the
# engine's writer die of SIGPIPE and the pipeline fail although the line was there.
LOGS=$(timeout 30 "$ENGINE" logs "$NAME" 2>&1) || fail "cannot read the container's logs"
READY_LINE=$(grep -m1 'framepipe ready:' <<< "$LOGS") || fail "no 'framepipe ready' log line"
[[ "$READY_LINE" == *"ring slots unsafe"* ]] || fail "ring slots not on the Unsafe path: $READY_LINE"
log "ok  startup log: ring slots unsafe"
# The image's AOT cache, trained in the image build with its own JRE and jars, is used.
STARTUP_LINE=$(grep -m1 'framepipe ready .* after the JVM started' <<< "$LOGS") \
  || fail "no start-up report line (time to ready, memory limits, AOT cache)"
[[ "$STARTUP_LINE" == *"AOT cache /opt/framepipe/framepipe.aot used"* ]] || fail "the image's AOT cache is not used: $STARTUP_LINE"
log "ok  ${STARTUP_LINE#*INFO  dev.framepipe.server.FramepipeServer: }"

# ---- footprint when idle: resident memory of the JVM (PID 1) a few seconds after ready ------------
sleep "${SMOKE_IDLE_SECONDS:-5}"
RSS_KB=$(timeout 30 "$ENGINE" exec "$NAME" awk '/^VmRSS:/ { print $2 }' /proc/1/status) || fail "cannot read VmRSS"
MAX_IDLE_MIB=${SMOKE_MAX_IDLE_RSS_MIB:-256}
log "idle resident memory $(( RSS_KB / 1024 )) MiB (limit for this check: $MAX_IDLE_MIB MiB); time to ready $READY_MS ms"
[ "$RSS_KB" -le $(( MAX_IDLE_MIB * 1024 )) ] || fail "idle resident memory $(( RSS_KB / 1024 )) MiB is above $MAX_IDLE_MIB MiB"
if [ "$ENGINE" = podman ]; then   # the image's HEALTHCHECK, run once by hand (no systemd timers needed)
  timeout 30 podman healthcheck run "$NAME" > /dev/null 2>&1 || fail "the image's HEALTHCHECK reports unhealthy"
  log "ok  HEALTHCHECK healthy"
fi

# ---- frames of every kind, with the project's client on the host --------------------------------
client() { timeout 60 "$REPO/bin/framepipe" client --port "$FRAME_PORT" "$@" 2>/dev/null; }
expect() {   # expect WANT CLIENT-ARGS...
  local want=$1 got; shift
  got=$(client "$@") || fail "client $* failed"
  [ "$got" = "$want" ] || fail "client $*: got '$got', want '$want'"
  log "ok  $* -> $got"
}
expect "Stats[count=4, sum=10.0, min=1.0, max=4.0, mean=2.5, variance=1.25]" stats 1 2 3 4
expect "[3.0, 5.0, 7.0]" scale 2 1 1 2 3
expect "STRASSE" upper "straße"
expect "hello" lower "HeLLo"
expect "Counts[bytes=3, codePoints=3, words=2, lines=0]" count "a b"
expect "smoke" ping smoke
# an unknown kind, as raw bytes: length 12, version 1, kind 9, op 0, id 42 -> error UNKNOWN_KIND (2)
exec 5<>"/dev/tcp/127.0.0.1/$FRAME_PORT"
printf '\x0c\x00\x00\x00\x01\x09\x00\x00\x2a\x00\x00\x00\x00\x00\x00\x00' >&5
ANSWER=$(timeout 10 head -c 18 <&5 | od -An -tx1 | tr -s ' \n' ' ')
exec 5>&-
[[ "$ANSWER" == *"01 ff 00 00 2a 00 00 00 00 00 00 00 02 00"* ]] || fail "unknown kind: answer '$ANSWER'"
log "ok  unknown kind -> error UNKNOWN_KIND"

# ---- metrics -----------------------------------------------------------------------------------
METRICS=$(curl -fsS --max-time 10 "http://127.0.0.1:$HTTP_PORT/metrics") || fail "/metrics"
for series in 'kind="floats",op="stats",outcome="ok"' 'kind="floats",op="scale",outcome="ok"' \
    'kind="text",op="upper",outcome="ok"' 'kind="text",op="lower",outcome="ok"' \
    'kind="text",op="count",outcome="ok"' 'kind="ping",op="ping",outcome="ok"'; do
  v=$(grep -F "pipeline_frames_completed_total{$series}" <<< "$METRICS" | awk '{print $2}')
  awk -v v="${v:-0}" 'BEGIN { exit !(v >= 1) }' || fail "pipeline_frames_completed_total{$series} = '${v:-missing}'"
done
grep -q '^pipeline_errors_total{code="unknown_kind"} [1-9]' <<< "$METRICS" || fail "pipeline_errors_total{code=unknown_kind}"
grep -q '^jvm_memory_max_bytes' <<< "$METRICS" || fail "no JVM metrics"
log "ok  /metrics: pipeline_frames_completed_total moved for every kind and op, errors counted"

# heap bounded as JDK_JAVA_OPTIONS says (-Xmx256m: G1's pools, eden, survivor and old, add up to it)
HEAP=$(grep '^jvm_memory_max_bytes{area="heap"' <<< "$METRICS" | awk '$NF > 0 { m += $NF } END { printf "%d", m }')
[ "${HEAP:-0}" -gt 0 ] && [ "$HEAP" -le $((256 * 1024 * 1024)) ] || fail "heap max $HEAP is not the image's 256 MiB"
log "ok  heap max $((HEAP / 1024 / 1024)) MiB under a $MEMORY limit"

# open files: start-up checked that both ports' caps fit (it would have stopped otherwise); the
# engine's default limit is what the defaults rely on (10000 + 100 connections + the margin)
FILES=$(awk '$1 == "process_files_max_files" { printf "%d", $2 }' <<< "$METRICS")
[ "${FILES:-0}" -gt 10100 ] || fail "open-file limit '${FILES:-missing}' too low for max-connections + http-max-connections"
log "ok  open-file limit $FILES"

# ---- non-root ----------------------------------------------------------------------------------
UID_IN=$(timeout 30 "$ENGINE" exec "$NAME" id -u) || fail "exec id -u"
[ "$UID_IN" != 0 ] || fail "the container runs as root"
PID1=$(timeout 30 "$ENGINE" exec "$NAME" cat /proc/1/cmdline | tr '\0' ' ')
[[ "$PID1" == java* ]] || fail "PID 1 is '$PID1', not the JVM"
log "ok  runs as uid $UID_IN; PID 1 is java"

# ---- SIGTERM: drain, close open connections cleanly, exit 0 -------------------------------------
exec 6<>"/dev/tcp/127.0.0.1/$FRAME_PORT"   # an open, idle connection the drain must close with a FIN
log "SIGTERM"
timeout 30 "$ENGINE" kill --signal TERM "$NAME" > /dev/null 2>&1 || timeout 30 "$ENGINE" kill -s TERM "$NAME" > /dev/null
timeout 20 cat <&6 > /dev/null || fail "the open connection was not closed cleanly within 20 s"
exec 6<&-
CODE=$(timeout 40 "$ENGINE" wait "$NAME" 2>/dev/null | tail -1) || fail "container did not exit within 40 s of SIGTERM"
[ "$CODE" = 0 ] || fail "exit code $CODE after SIGTERM"
LOGS=$(timeout 30 "$ENGINE" logs "$NAME" 2>&1) || fail "cannot read the container's logs"
grep -q "framepipe: stopped" <<< "$LOGS" || fail "no 'framepipe: stopped' in the logs"
log "ok  drained and exited 0"
log "PASS ($(( $(date +%s) - START ))s)"
