#!/usr/bin/env bash
# Runs every scenario in load-tests/scenarios against the transport-only baseline and against
# framepipe, one after the other on this machine's loopback, and writes a report to
# load-tests/results/<date>.md with both results, their ratio, framepipe's heap bytes per frame
# (from /metrics) and its GC pauses during the run.
#
#   load-tests/run.sh [scenario-name-prefix ...]     e.g. load-tests/run.sh 01 03
#   DURATION=20s WARMUP=5s load-tests/run.sh          measured time and warm-up per run
#   ROUNDS=3 load-tests/run.sh                        each scenario baseline, framepipe, baseline, framepipe...;
#                                                     the report gives medians and the per-round ratios
#   IO_THREADS=2 load-tests/run.sh                    I/O threads of both servers (default: the service's)
#   FRAMEPIPE_WORKER_PARALLELISM=1 load-tests/run.sh  any service setting, as its environment variable
#                                                     (recorded in the report)
#
# Exit status 1 when a scenario got wrong answers (errors or mismatches from framepipe, mismatches
# from the baseline: verdict ERRORS in the report) or a load run failed; a missed target is not a
# failure (verdict MISS).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FP="$ROOT/bin/framepipe"
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-5s}
ROUNDS=${ROUNDS:-1}
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: ROUNDS must be a positive whole number, not '$ROUNDS'" >&2; exit 2; }
FRAME_PORT=${FRAME_PORT:-17070}; HTTP_PORT=${HTTP_PORT:-19464}; BASE_PORT=${BASE_PORT:-17171}
IO_THREADS=${IO_THREADS:-$(( $(nproc) / 2 > 0 ? $(nproc) / 2 : 1 ))}  # the service's default, for both servers
OUT_DIR="$ROOT/load-tests/results"; TMP="$OUT_DIR/tmp"; mkdir -p "$TMP"
REPORT="$OUT_DIR/$(date -u +%Y-%m-%d-%H%M).md"

"$FP" build >/dev/null
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

"$FP" serve --bind-address 127.0.0.1 --frame-port "$FRAME_PORT" --http-port "$HTTP_PORT" --io-threads "$IO_THREADS" \
  > "$TMP/serve.log" 2>&1 & pids+=($!)
"$FP" baseline --bind-address 127.0.0.1 --port "$BASE_PORT" --io-threads "$IO_THREADS" > "$TMP/baseline.log" 2>&1 & pids+=($!)
for i in $(seq 150); do curl -sf "http://127.0.0.1:$HTTP_PORT/health/ready" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$HTTP_PORT/health/ready" >/dev/null || { echo "framepipe did not start"; cat "$TMP/serve.log"; exit 1; }

scrape() {  # heap bytes, completed frames, GC pauses of the service right now
  curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | awk '
    /^pipeline_heap_allocated_bytes_total/ {h+=$2} /^pipeline_frames_completed_total/ {f+=$2}
    /^jvm_gc_pause_seconds_count/ {g+=$2} END {printf "%.0f %.0f %.0f\n", h, f, g}'
}

load() {  # target-port json-file extra-args...
  local port=$1 json=$2 status=0; shift 2
  rm -f "$json"
  # A run with wrong answers exits 1 and still writes its JSON: the report marks the scenario
  # ERRORS and the script fails at the end. A run that wrote no JSON failed outright.
  "$FP" load --port "$port" --mix "$MIX" --connections "$CONNECTIONS" --depth "$DEPTH" \
    --duration "$DURATION" --warmup "$WARMUP" --json "$json" "$@" > "${json%.json}.log" 2>&1 || status=$?
  if [ ! -s "$json" ]; then
    echo "run.sh: the load run against port $port failed (exit status $status) and wrote no result; its log:" >&2
    cat "${json%.json}.log" >&2
    exit 1
  fi
}

# A framepipe run: heap and GC are read from /metrics when the warm-up ends and when the run
# ends, so they describe the steady state that the load generator measures.
load_framepipe() {  # json-file extra-args...
  local json=$1; shift
  load "$FRAME_PORT" "$json" "$@" &
  local pid=$!
  sleep "${WARMUP%s}"
  read -r h1 f1 g1 < <(scrape)
  wait "$pid" || exit 1  # load() said why
  read -r h2 f2 g2 < <(scrape)
}

{
  echo "# Load test: framepipe against the transport-only baseline"
  echo
  echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores ($(uname -m)), client and servers sharing them."
  overrides=$(env | grep '^FRAMEPIPE_' | sort | tr '\n' ' ' || true)
  echo "Command: \`${overrides}load-tests/run.sh $*\` (DURATION=$DURATION WARMUP=$WARMUP ROUNDS=$ROUNDS, servers with $IO_THREADS I/O threads)."
  echo "Commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)."
  echo
  echo "| scenario | baseline | framepipe | ratio | target | framepipe p50 / p99 / p99.9 (us) | hiccups p99 / max (us), baseline; framepipe runs | heap B/frame | GC pauses | verdict |"
  echo "|---|---:|---:|---:|---:|---|---|---:|---:|---|"
} > "$REPORT"

failed=()
for conf in "$ROOT"/load-tests/scenarios/*.conf; do
  id=$(basename "$conf" .conf)
  if [ $# -gt 0 ]; then match=0; for p in "$@"; do [[ "$id" == "$p"* ]] && match=1; done; [ $match = 1 ] || continue; fi
  NAME= MIX= CONNECTIONS= DEPTH= COMPARE= TARGET= RATE_OF= RATE_FRACTION= P99_TARGET_US=
  # shellcheck disable=SC1090
  source "$conf"
  echo "== $id: $NAME"
  extra=()
  if [ "$COMPARE" = latency ]; then
    max=$(python3 -c "import json,glob,statistics;print(statistics.median(json.load(open(f))['frames_per_second'] for f in glob.glob('$TMP/$RATE_OF-framepipe-r*.json')))")
    rate=$(python3 -c "print(round($max * $RATE_FRACTION))")
    extra=(--rate "$rate")
  fi
  # The baseline first; for latency scenarios at the same open-loop rate (what the machine adds).
  # With ROUNDS > 1 the two alternate, so that both sample the same stretches of a noisy machine.
  rm -f "$TMP/$id"-*-r*.json
  heap=0 done_frames=0 gcs=0
  for r in $(seq "$ROUNDS"); do
    load "$BASE_PORT" "$TMP/$id-baseline-r$r.json" --verify ids "${extra[@]}"
    load_framepipe "$TMP/$id-framepipe-r$r.json" "${extra[@]}"
    heap=$((heap + h2 - h1)); done_frames=$((done_frames + f2 - f1)); gcs=$((gcs + g2 - g1))
  done
  python3 - "$id" "$TMP" "$COMPARE" "${TARGET:-}" "${P99_TARGET_US:-}" "$heap" "$done_frames" "$gcs" "$ROUNDS" >> "$REPORT" <<'PY'
import json, statistics, sys
sid, tmp, compare, target, p99t, heap, frames, gcs, rounds = sys.argv[1:]
rounds = int(rounds)
fps = [json.load(open(f"{tmp}/{sid}-framepipe-r{r}.json")) for r in range(1, rounds + 1)]
bases = [json.load(open(f"{tmp}/{sid}-baseline-r{r}.json")) for r in range(1, rounds + 1)]
med = statistics.median
heap = float(heap) / max(1.0, float(frames))
gcs = int(gcs)
lat = " / ".join(f"{med(fp[k] for fp in fps):.0f}" for k in ("p50_us", "p99_us", "p999_us"))
# Wrong answers from framepipe (errors or mismatches) or from the baseline (mismatches), and lost
# ones (requests whose connection the server closed before answering) make the verdict ERRORS,
# whatever the speed: the script then fails (below the loop).
ok = all(fp["mismatches"] == 0 and fp["errors"] == 0 and fp.get("lost", 0) == 0 for fp in fps) \
    and all(b["mismatches"] == 0 and b.get("lost", 0) == 0 for b in bases)
def hiccups(runs):  # the load generator's hiccup meter: how late a thread sleeping 1 ms woke
    vals = [(j.get("hiccup_p99_us"), j.get("hiccup_max_us")) for j in runs]
    vals = [v for v in vals if v[0] is not None]
    return f"{med(v[0] for v in vals):.0f} / {med(v[1] for v in vals):.0f}" if vals else "-"
hic = f"{hiccups(bases)}; {hiccups(fps)}"
if compare == "latency":
    p99 = med(fp["p99_us"] for fp in fps)
    verdict = "ERRORS" if not ok else ("PASS" if p99 <= float(p99t) else "MISS") if p99t else "ok"
    bl = f"p50 / p99 {med(b['p50_us'] for b in bases):.0f} / {med(b['p99_us'] for b in bases):.0f} us"
    rate = med(fp["rate_per_second"] for fp in fps)
    each = ", ".join(f"{fp['p99_us']:.0f}" for fp in fps)
    note = f" (p99 per round: {each})" if rounds > 1 else ""
    tgt = f"p99 <= {float(p99t):.0f} us" if p99t else "-"
    print(f"| {sid} (open loop {rate:,.0f}/s) | {bl} | {med(fp['frames_per_second'] for fp in fps):,.0f} frames/s | - | {tgt} | {lat}{note} | {hic} | {heap:.1f} | {gcs} | {verdict} |")
else:
    if compare == "bytes":
        value = lambda j: j["request_mb_per_second"] + j["response_mb_per_second"]
        unit = "MB/s"
    else:
        value = lambda j: j["frames_per_second"]
        unit = "frames/s"
    ratios = [value(f) / value(b) if value(b) else 0 for f, b in zip(fps, bases)]
    ratio = med(ratios)  # each round's pair ran back to back: their ratio, then the median
    verdict = "ERRORS" if not ok else ("PASS" if ratio >= float(target) else "MISS") if target else "ok"
    tgt = f">= {float(target)*100:.0f} %" if target else "-"
    each = ", ".join(f"{x*100:.0f}" for x in ratios)
    shown = f"{ratio*100:.0f} %" + (f" (rounds: {each})" if rounds > 1 else "")
    print(f"| {sid} | {med(value(b) for b in bases):,.0f} {unit} | {med(value(f) for f in fps):,.0f} {unit} | {shown} | {tgt} | {lat} | {hic} | {heap:.1f} | {gcs} | {verdict} |")
PY
  tail -1 "$REPORT"
  if tail -1 "$REPORT" | grep -q '| ERRORS |$'; then
    failed+=("$id")
    for j in "$TMP/$id"-*-r*.json; do
      python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(f'  {sys.argv[1]}: {j[\"errors\"]} errors {j.get(\"errors_by_code\", {})}, {j[\"mismatches\"]} mismatches')" "$j" >&2
    done
  fi
done

{
  echo
  echo "Heap B/frame: rate of \`pipeline_heap_allocated_bytes_total\` (I/O and worker threads) over"
  echo "\`pipeline_frames_completed_total\` from the end of the warm-up to the end of the framepipe run;"
  echo "GC pauses: change of \`jvm_gc_pause_seconds_count\` over the same window. For the latency"
  echo "scenario the baseline column is the baseline at the same open-loop rate. With ROUNDS > 1,"
  echo "every figure is the median over the rounds, and the ratio is the median of the rounds' ratios"
  echo "(baseline and framepipe ran back to back in each round); heap and GC cover all rounds."
  echo "Hiccups: the load generator's hiccup meter, a thread that sleeps 1 ms at a time, over the"
  echo "measured part of each run: how late it woke (p99 and max, medians over the rounds). Frames in"
  echo "flight during a stall of the machine wait at least as long as the stall, whatever serves them,"
  echo "so a latency tail near these figures is set by the machine, not by the server."
  echo "Per-run logs and JSON: \`load-tests/results/tmp/\`."
} >> "$REPORT"
echo "report: $REPORT"
if [ ${#failed[@]} -gt 0 ]; then
  echo "run.sh: wrong answers (errors or mismatches) in scenario(s) ${failed[*]}; see the lines above and $REPORT" >&2
  exit 1
fi
