#!/usr/bin/env bash
# CPU profile of a running framepipe server with Linux perf: timer-based samples of every thread,
# Java frames named through the JIT's perf map (`jcmd PID Compiler.perfmap`), kernel frames
# included, then the most sampled functions of the I/O threads and of the workers. Unlike
# `profile.sh` (JFR), it sees time in system calls and the kernel, and it does not depend on
# where the JVM can stop a thread. Run load against the server meanwhile.
#
#   load-tests/perf-profile.sh PID [SECONDS] [TOP]      defaults: 8 s, 25 rows per thread group
#   USER_ONLY=1 load-tests/perf-profile.sh PID ...       user time only (shares of the threads' time
#                                                        outside the kernel: where the server's own
#                                                        code spends it)
#
# Needs perf (apt-get install linux-perf) and root (or perf_event_paranoid <= 0).
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,13p' "$0"; exit 2; }
PID=$1 SECS=${2:-8} TOP=${3:-25}
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
command -v perf > /dev/null || { echo "perf-profile.sh: perf is not installed" >&2; exit 1; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
EVENT=cpu-clock; [ "${USER_ONLY:-0}" = 1 ] && EVENT=cpu-clock:u
perf record -e "$EVENT" -F 999 -p "$PID" -o "$OUT/perf.data" -- sleep "$SECS" 2> "$OUT/record.log" \
  || { cat "$OUT/record.log" >&2; exit 1; }
# The JIT's code map as it is now, for perf to name compiled Java methods (/tmp/perf-PID.map).
"$JAVA_HOME/bin/jcmd" "$PID" Compiler.perfmap > /dev/null
for group in framepipe-io framepipe-worke; do
  echo "== $group threads: most sampled functions (share of the group's samples)"
  comms=$(perf report -i "$OUT/perf.data" --stdio --sort comm 2>/dev/null \
    | awk -v g="$group" '$0 !~ /^#/ && index($2, g) == 1 { print $2 }' | sort -u | paste -sd, -)
  if [ -z "$comms" ]; then
    echo "   (no samples)"
    continue
  fi
  perf report -i "$OUT/perf.data" --stdio --comms "$comms" --sort dso,sym --percentage relative 2>/dev/null \
    | grep -v '^#' | grep '%' | head -n "$TOP" || true  # head closing the pipe early is not a failure
done
