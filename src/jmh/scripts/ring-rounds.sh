#!/usr/bin/env bash
# Interleaved JMH rounds for the ring benchmarks, then medians per benchmark.
#
# The machine has 2 cores shared with other builds, so the load changes from one minute to the
# next; one long JMH run measures queue A under one load and queue B under another. This runs
# ROUNDS short JMH invocations back to back, each covering every selected benchmark, so that every
# benchmark samples every period of load, and reports the median of all measurement iterations.
#
#   ./mvnw -Pjmh -DskipTests package
#   src/jmh/scripts/ring-rounds.sh [ROUNDS] [REGEX] [extra JMH args...]
#   e.g. src/jmh/scripts/ring-rounds.sh 5 'RingBenchmark.(throughput|pingPong)'
set -euo pipefail
cd "$(dirname "$0")/../../.."
JAVA="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
ROUNDS="${1:-5}"
REGEX="${2:-RingBenchmark}"
shift $(( $# > 2 ? 2 : $# ))
OUT="${RING_ROUNDS_OUT:-target/ring-rounds}"
mkdir -p "$OUT"
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS" >&2
  "$JAVA" -jar target/benchmarks.jar "$REGEX" -f 1 -wi 2 -w 1s -i 3 -r 1s \
      -rf json -rff "$OUT/round-$r.json" "$@" > "$OUT/round-$r.txt" 2>&1
done
python3 - "$OUT" "$ROUNDS" <<'PY'
import json, statistics, sys, collections
out, rounds = sys.argv[1], int(sys.argv[2])
samples = collections.defaultdict(list)
units = {}
for r in range(1, rounds + 1):
    for b in json.load(open(f"{out}/round-{r}.json")):
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
PY
