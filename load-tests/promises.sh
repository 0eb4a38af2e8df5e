#!/usr/bin/env bash
# The promises of "Nothing lost when the machine is busy", checked from outside: real servers
# (bin/framepipe serve), frames written byte by byte by load-tests/promises.py (Python 3 with
# numpy), each scenario RUNS times in a row in each mode. Writes a report to
# load-tests/results/<UTC date>-promises.md and exits 1 when any run broke a promise.
#
#   load-tests/promises.sh                           every scenario, 10 runs, quiet then busy
#   load-tests/promises.sh halfclose rotation:jdk    some scenarios (variants after a colon)
#   RUNS=1 MODES=quiet WARMUP_ROUNDS=0 load-tests/promises.sh halfclose:plain halfclose:tls-openssl \
#       budget rotation:openssl                      the brief run (CI): each scenario once, about
#                                                    25 s of CPU time (wall time: the machine's load)
#
# Scenarios (variants): halfclose (plain, tls-jdk, tls-openssl), budget (4MiB), rotation (jdk,
# openssl); what each sends and checks is in promises.py's header and in the report.
# Settings (environment):
#   RUNS=10             runs of each scenario in each mode, one after the other on one server
#   MODES=quiet,busy    quiet: nothing added; busy: a second server hammered over loopback by the
#                       load generator keeps both cores busy meanwhile
#   WARMUP_ROUNDS=20000 the servers' warmup-rounds (the default; fewer starts them sooner)
#   TIMEOUT=60          seconds a run may wait for its answers
#   REPORT=FILE         where the report goes (default load-tests/results/<date>-promises.md)
#   FAIL_FAST=1         stop a scenario at its first failed run
# Every process started here is stopped on exit, Ctrl-C included.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FP="$ROOT/bin/framepipe"
RUNS=${RUNS:-10}
MODES=${MODES:-quiet,busy}
WARMUP_ROUNDS=${WARMUP_ROUNDS:-20000}
TIMEOUT=${TIMEOUT:-60}
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "promises.sh: RUNS must be a positive whole number, not '$RUNS'" >&2; exit 2; }
[[ "$WARMUP_ROUNDS" =~ ^[0-9]+$ ]] || { echo "promises.sh: WARMUP_ROUNDS must be a whole number, not '$WARMUP_ROUNDS'" >&2; exit 2; }
[[ "$TIMEOUT" =~ ^[1-9][0-9]*$ ]] || { echo "promises.sh: TIMEOUT must be a positive whole number of seconds, not '$TIMEOUT'" >&2; exit 2; }
command -v openssl >/dev/null || { echo "promises.sh: openssl is needed for the throwaway certificates" >&2; exit 2; }
python3 -c 'import sys, numpy; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null \
  || { echo "promises.sh: needs Python 3.11 or newer with numpy" >&2; exit 2; }
mkdir -p "$ROOT/load-tests/results"
REPORT=${REPORT:-$ROOT/load-tests/results/$(date -u +%Y-%m-%d-%H%M)-promises.md}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/promises.XXXXXX")
# Build now if the sources changed (serve would otherwise build inside the first scenario's start).
"$FP" --version >"$WORK/build.out" 2>&1 || { cat "$WORK/build.out" >&2; rm -rf "$WORK"; exit 1; }
py=
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$py" ] && kill -0 "$py" 2>/dev/null; then
    kill -TERM "$py" 2>/dev/null || true   # the script stops its servers itself
    for _ in $(seq 40); do kill -0 "$py" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$py" 2>/dev/null || true
  fi
  # Whatever the script could not stop (it was killed itself): only our own processes, known by
  # their id and by the marker in their command line.
  if [ -f "$WORK/pids" ]; then
    while read -r pid; do
      if { tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "-Dpromises.work=$WORK"; then
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done < "$WORK/pids"
  fi
  if [ "$status" -ne 0 ] && [ -d "$WORK" ]; then
    keep="$ROOT/load-tests/results/tmp/promises-logs-$(date -u +%Y%m%d-%H%M%S)"
    mkdir -p "$keep" && cp "$WORK"/*.log "$keep"/ 2>/dev/null && echo "promises.sh: server logs kept in $keep" >&2
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

args=(--root "$ROOT" --work "$WORK" --runs "$RUNS" --modes "$MODES" --report "$REPORT"
      --warmup-rounds "$WARMUP_ROUNDS" --timeout "$TIMEOUT"
      --command "RUNS=$RUNS MODES=$MODES WARMUP_ROUNDS=$WARMUP_ROUNDS load-tests/promises.sh $*")
[ -n "${FAIL_FAST:-}" ] && args+=(--fail-fast)
python3 "$ROOT/load-tests/promises.py" "${args[@]}" "$@" &
py=$!
wait "$py"
