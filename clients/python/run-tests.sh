#!/usr/bin/env bash
# Runs the Python client's tests (clients/python/tests) against real framepipe servers, which
# the tests start themselves with bin/framepipe (building the jar first if needed).
#
#   clients/python/run-tests.sh [pytest args]
#
# Exit status: pytest's (non-zero on any failure, also when no test ran), or 124 when the run
# takes longer than FRAMEPIPE_PY_TEST_TIMEOUT seconds (default 420). Needs python3 (3.11+) with
# pytest; numpy is optional (its tests are skipped without it); openssl for the TLS tests.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"

# Caches out of the tree: a CI clone stays clean.
export PYTHONDONTWRITEBYTECODE=1
exec timeout --kill-after=30 "${FRAMEPIPE_PY_TEST_TIMEOUT:-420}" \
  python3 -m pytest -q -p no:cacheprovider -o console_output_style=classic clients/python/tests "$@"
