#!/usr/bin/env bash
# Interleaved JMH rounds for the ring benchmarks, then medians per benchmark. The JVM flags the
# ring needs (the Unsafe export, or the VarHandle switch) come from RingBenchmark's @Fork annotations.
#
# On a busy 2-core machine the load changes from one minute to the
# next; one long JMH run measures queue A under one load and queue B under another. This runs
# ROUNDS short JMH invocations back to back, each covering every selected benchmark, so that every
# benchmark samples every period of load, and reports the median of all measurement iterations.
#
# On this machine the two-thread throughput benchmarks are bimodal: an iteration runs near
# 300-400 or near 800-1,050 ops/us, and the mode changes with the host's scheduling (every queue
# switches at once), so a median mostly counts modes. MODE_SPLIT=600 (ops/us) adds, for each
# throughput benchmark, the share of iterations above that value and the median on each side.
#
#   ./mvnw -Pjmh -DskipTests package
#   [MODE_SPLIT=600] src/jmh/scripts/ring-rounds.sh [ROUNDS] [REGEX] [extra JMH args...]
#   e.g. src/jmh/scripts/ring-rounds.sh 5 'RingBenchmark.(throughput|pingPong)'
set -euo pipefail
cd "$(dirname "$0")/../../.."
JAVA="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
ROUNDS="${1:-5}"
REGEX="${2:-RingBenchmark}"
shift $(( $# > 2 ? 2 : $# ))
OUT="${RING_ROUNDS_OUT:-target/ring-rounds}"
mkdir -p "$OUT"
rm -f "$OUT"/round-*.json "$OUT"/round-*.txt
# One JMH invocation per benchmark, in an order rotated every round: JMH alone runs them in name
# order, and a benchmark that always runs first would always meet the same phase of the host.
mapfile -t BENCHES < <("$JAVA" -jar target/benchmarks.jar -l "$REGEX" | sed -n 's/^ *\(dev\.framepipe\..*\)$/\1/p')
[ "${#BENCHES[@]}" -gt 0 ] || { echo "ring-rounds.sh: no benchmark matches '$REGEX'" >&2; exit 1; }
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS" >&2
  for k in "${!BENCHES[@]}"; do
    b=${BENCHES[$(( (k + r) % ${#BENCHES[@]} ))]}
    "$JAVA" -jar target/benchmarks.jar "^${b//./\\.}\$" -f 1 -wi 2 -w 1s -i 3 -r 1s \
        -rf json -rff "$OUT/round-$r-$k.json" "$@" > "$OUT/round-$r-$k.txt" 2>&1
  done
done
python3 - "$OUT" "$ROUNDS" "${MODE_SPLIT:-}" <<'PY'
import glob, json, statistics, sys, collections
out, rounds, split = sys.argv[1], int(sys.argv[2]), sys.argv[3]
samples = collections.defaultdict(list)
units = {}
for f in sorted(glob.glob(f"{out}/round-*-*.json")):
    for b in json.load(open(f)):
        name = b["benchmark"].rsplit(".", 1)[1]
        m = b["primaryMetric"]
        if b["mode"] == "sample":
            # one value per round: that round's median sample (p50)
            name += " (p50)"
            samples[name].append(m["scorePercentiles"]["50.0"])
        else:
            # every measurement iteration of every round
            samples[name] += [x for fork in m["rawData"] for x in fork]
        units[name] = m["scoreUnit"]
        for sec, sm in b.get("secondaryMetrics", {}).items():
            if sm.get("rawData"):  # per-thread scores of a group, gc.alloc.rate.norm, ...
                key = name + ":" + sec
                units[key] = sm["scoreUnit"]
                samples[key] += [x for fork in sm["rawData"] for x in fork]
print(f"{'benchmark':60s} {'median':>12s} {'min':>12s} {'max':>12s}   n  unit")
for k in sorted(samples):
    v = samples[k]
    print(f"{k:60s} {statistics.median(v):12.3f} {min(v):12.3f} {max(v):12.3f} {len(v):3d}  {units[k]}")
if split:
    limit = float(split)
    print(f"\nmodes (split at {limit:g}): share of iterations above, median above, median below")
    for k in sorted(samples):
        if ":" in k or "(p50)" in k or units[k] != "ops/us":
            continue
        v = samples[k]
        hi = [x for x in v if x >= limit]
        lo = [x for x in v if x < limit]
        med = lambda xs: f"{statistics.median(xs):10.1f}" if xs else f"{'-':>10s}"
        print(f"{k:60s} {len(hi):3d}/{len(v):<3d} {med(hi)} {med(lo)}")
PY
