#!/usr/bin/env bash
# What a running server spends per frame under load: frames/s and p99 from `framepipe load`,
# and, read from /proc over the measured window, the server process's CPU (cores), its voluntary
# and involuntary context switches and its write and writev calls (the `syscw` of
# /proc/<pid>/io, which does not count sendto: Netty sends a single buffer with sendto, so
# SYSCALLS=1 below is the full count) per 1000 frames. Run it
# against framepipe and against the baseline, one after the other, to compare them side by side.
#
#   load-tests/cost-per-frame.sh PORT PID [framepipe load options...]
#   e.g. load-tests/cost-per-frame.sh 7070 "$(pgrep -f 'framepipe.*jar serve')" --mix stats:64
#        load-tests/cost-per-frame.sh 7070 "$(pgrep -f 'framepipe.*jar serve')" --rate 1200000
#        load-tests/cost-per-frame.sh 7171 "$(pgrep -f 'framepipe.*jar baseline')" --verify ids
# (the baseline computes nothing, so check only ids, order, kinds and sizes against it)
# Defaults, each used unless given: --mix stats:64 --connections 8 --depth 128 --duration 10s.
# The warm-up is the script's own (4 s, WARMUP_S=...), not a load option.
# PER_THREAD=1 also prints each busy server thread's user/system CPU, switches per second and
# time spent runnable but waiting for a CPU (run-queue wait, /proc/<pid>/task/*/schedstat).
# SYSCALLS=1 also counts the server's system calls by kind (recvfrom, read, write, writev, sendto,
# epoll_pwait2, futex) and its context switches with `perf stat` (needs perf and its syscall
# tracepoints; as root) over the same window, per second and per 1000 frames.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,20p' "$0"; exit 2; }
if [ "${SYSCALLS:-0}" = 1 ] && ! command -v perf > /dev/null; then
  echo "cost-per-frame.sh: SYSCALLS=1 needs perf (apt-get install linux-perf)" >&2
  exit 2
fi
PORT=$1 PID=$2; shift 2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WARMUP_S=${WARMUP_S:-4}
args=("$@")
given() { local a; for a in "${args[@]}"; do [[ "$a" == "$1" || "$a" == "$1="* ]] && return 0; done; return 1; }
given --mix || args+=(--mix stats:64)
given --connections || args+=(--connections 8)
given --depth || args+=(--depth 128)
given --duration || args+=(--duration 10s)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

snapshot() {  # syscw voluntary involuntary cpu-ticks
  local v=0 n=0 t
  for t in /proc/"$PID"/task/*; do
    v=$((v + $(awk '/^voluntary_ctxt_switches/ {print $2}' "$t/status" 2>/dev/null || echo 0)))
    n=$((n + $(awk '/^nonvoluntary_ctxt_switches/ {print $2}' "$t/status" 2>/dev/null || echo 0)))
  done
  echo "$(awk '/^syscw/ {print $2}' /proc/"$PID"/io) $v $n $(awk '{print $14 + $15}' /proc/"$PID"/stat)"
}

"$ROOT/bin/framepipe" load --port "$PORT" --warmup "${WARMUP_S}s" --json "$OUT/load.json" "${args[@]}" \
  > "$OUT/load.log" 2>&1 &
load_pid=$!
threads() {  # per thread: name utime stime voluntary involuntary run-queue-wait-ns
  local t
  for t in /proc/"$PID"/task/*; do
    echo "$(tr ' ' '_' < "$t/comm") $(awk '{print $14, $15}' "$t/stat") $(awk '/^voluntary_ctxt/ {v=$2} /^nonvoluntary_ctxt/ {n=$2} END {print v, n}' "$t/status") $(awk '{print $2}' "$t/schedstat" 2>/dev/null || echo 0)"
  done 2>/dev/null
}
sleep "$WARMUP_S"
before=$(snapshot)
[ "${PER_THREAD:-0}" = 1 ] && threads > "$OUT/threads.before"
perf_pid=
if [ "${SYSCALLS:-0}" = 1 ]; then
  perf stat -x, -o "$OUT/perf.csv" -p "$PID" -e 'syscalls:sys_enter_recvfrom,syscalls:sys_enter_read,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_sendto,syscalls:sys_enter_epoll_pwait2,syscalls:sys_enter_futex,context-switches' &
  perf_pid=$!
fi
wait "$load_pid" || { cat "$OUT/load.log"; exit 1; }
if [ -n "$perf_pid" ]; then
  kill -INT "$perf_pid"
  wait "$perf_pid" || true
fi
after=$(snapshot)
[ "${PER_THREAD:-0}" = 1 ] && threads > "$OUT/threads.after"
python3 - "$OUT/load.json" "$before" "$after" "$(getconf CLK_TCK)" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
a, b = [list(map(int, x.split())) for x in sys.argv[2:4]]
ticks = int(sys.argv[4])
d = [y - x for x, y in zip(a, b)]
frames = j["frames_per_second"] * j["seconds"]
k = 1000 / frames
print(f"{j['frames_per_second']:,.0f} frames/s  p50 {j['p50_us']:.0f} us  p99 {j['p99_us']:.0f} us  "
      f"server CPU {d[3] / ticks / j['seconds']:.2f} cores ({1e9 * d[3] / ticks / frames:.0f} ns per frame)  per 1000 frames: "
      f"{d[1] * k:.1f} voluntary + {d[2] * k:.1f} involuntary context switches, {d[0] * k:.1f} write/writev calls")
PY
if [ -n "$perf_pid" ]; then
  python3 - "$OUT/perf.csv" "$OUT/load.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[2]))
rows = [l.strip().split(",") for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")]
# perf counts from the end of the warm-up to the end of the load run: about its measured seconds
per_s = {r[2].replace("syscalls:sys_enter_", ""): float(r[0]) / j["seconds"]
         for r in rows if len(r) > 2 and r[0].replace(".", "").isdigit()}
fps = j["frames_per_second"]
print("  per second: " + ", ".join(f"{k} {v:,.0f}" for k, v in per_s.items()))
print("  per 1000 frames: " + ", ".join(f"{k} {1000 * v / fps:.1f}" for k, v in per_s.items()))
PY
fi
if [ "${PER_THREAD:-0}" = 1 ]; then
  python3 - "$OUT/threads.before" "$OUT/threads.after" "$OUT/load.json" "$(getconf CLK_TCK)" <<'PY'
import json, sys, collections
def read(f):
    rows = collections.defaultdict(lambda: [0, 0, 0, 0, 0])
    for line in open(f):
        name, *v = line.split()
        for i, x in enumerate(map(int, v)):
            rows[name][i] += x  # threads of the same name (e.g. workers) summed
    return rows
a, b = read(sys.argv[1]), read(sys.argv[2])
secs, ticks = json.load(open(sys.argv[3]))["seconds"], int(sys.argv[4])
for name in sorted(b):
    d = [y - x for x, y in zip(a.get(name, [0, 0, 0, 0, 0]), b[name])]
    if d[0] + d[1] > 0 or d[2] > 10 * secs:
        print(f"  {name:<24} user {d[0] / ticks / secs:.2f}  system {d[1] / ticks / secs:.2f} cores"
              f"  {d[2] / secs:,.0f} voluntary + {d[3] / secs:,.0f} involuntary switches/s"
              f"  waiting to run {d[4] / 1e9 / secs:.2f} s/s")
PY
fi
