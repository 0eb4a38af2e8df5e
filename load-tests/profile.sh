#!/usr/bin/env bash
# CPU profile of a running framepipe server, by thread group and by where the time goes: JFR
# execution samples every 2 ms for SECONDS, then the shares of the I/O threads' and the workers'
# samples (top of stack) in the groups docs/performance.md uses. Run load against it meanwhile.
#
#   load-tests/profile.sh PID [SECONDS]        e.g. with `framepipe load --mix stats:64` running
#   BY_METHOD=1 load-tests/profile.sh PID      also the I/O threads' ten most sampled top frames
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,7p' "$0"; exit 2; }
PID=$1 SECS=${2:-8}
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cat > "$OUT/samples.jfc" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<configuration version="2.0">
  <event name="jdk.ExecutionSample"><setting name="enabled">true</setting><setting name="period">2 ms</setting></event>
</configuration>
XML
"$JAVA_HOME/bin/jcmd" "$PID" JFR.start name=framepipe-profile settings="$OUT/samples.jfc" \
  duration="${SECS}s" filename="$OUT/profile.jfr" > /dev/null
sleep $((SECS + 2))
"$JAVA_HOME/bin/jfr" print --json --events jdk.ExecutionSample "$OUT/profile.jfr" > "$OUT/profile.json"
python3 - "$OUT/profile.json" "${BY_METHOD:-0}" <<'PY'
import json, sys, collections
def name(f):
    return f["method"]["type"]["name"].split("/")[-1] + "." + f["method"]["name"]
def io_group(top):
    if "coalesce" in top or "FrameAnswers" in top:
        return "writing answers into the batch buffer (values encoded, other answers copied)"
    if any(k in top for k in ("getUnsigned", "Buffer.checkIndex", "MemorySessionImpl", "getLongLE", "getIntLE")):
        return "reading frame headers through ByteBuf getters"
    if any(k in top for k in ("Recycler", "relaxedPoll", "Thread.threadState", "Thread.getState",
                              "VM.toThreadState", "deallocate", "PooledSlicedByteBuf", "handleRelease")):
        return "Netty buffer bookkeeping (Recycler, reference counts, release)"
    if "SpscRing" in top or "RingConsumer" in top:
        return "request ring offers, completion ring polls"
    return "decoder, event loop, task queue, write-back loop"
def worker_group(names):
    if any(k in names[0] for k in ("ForkJoinPool.deactivate", "awaitWork", "Unsafe.park")):
        return "going idle and being woken"
    if any(k in n for n in names for k in ("FrameProcessor", "FloatKernels", "TextKernels", "FrameAnswers")):
        return "kernels (and in-place transform answers)"
    return "ring drain, completion ring, pool bookkeeping"
counts = collections.defaultdict(collections.Counter)
methods = collections.Counter()
for e in json.load(open(sys.argv[1]))["recording"]["events"]:
    thread = e["values"]["sampledThread"]["javaName"] or ""
    frames = e["values"]["stackTrace"]["frames"] if e["values"]["stackTrace"] else []
    if not frames:
        continue
    names = [name(f) for f in frames]
    if "-io-" in thread:
        counts["I/O threads"][io_group(names[0])] += 1
        methods[names[0]] += 1
    elif "worker" in thread:
        counts["workers"][worker_group(names)] += 1
for group, c in counts.items():
    total = sum(c.values())
    print(f"{group}: {total} samples")
    for k, v in c.most_common():
        print(f"  {100 * v / total:5.1f} %  {k}")
if sys.argv[2] == "1" and methods:
    total = sum(methods.values())
    print("I/O threads, top frames:")
    for k, v in methods.most_common(10):
        print(f"  {100 * v / total:5.1f} %  {k}")
PY
