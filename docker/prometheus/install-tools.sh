#!/usr/bin/env bash
# install-tools.sh - makes sure the named commands are on PATH, installing the Debian packages that
# provide them when some are missing: prometheus and promtool (package `prometheus`), jq (`jq`).
# Used by ci-check.sh and rules-check.sh.
#
#   docker/prometheus/install-tools.sh promtool                 what rules-check.sh needs
#   docker/prometheus/install-tools.sh prometheus promtool jq   what ci-check.sh needs
#
# The package's own Prometheus service (port 9090, /var/lib/prometheus) is kept from starting
# during the install (policy-rc.d), and stopped and disabled if systemd started it anyway: the
# checks run their own Prometheus on a free port with a temporary configuration. Prints what it
# installed on stderr; exits non-zero when apt-get fails or a command is still missing after it.
set -euo pipefail

[ $# -gt 0 ] || set -- prometheus promtool
missing=() packages=()
for cmd in "$@"; do
  command -v "$cmd" >/dev/null && continue
  missing+=("$cmd")
  case "$cmd" in
    prometheus | promtool) pkg=prometheus ;;
    jq) pkg=jq ;;
    *) echo "install-tools: no package known for '$cmd'" >&2; exit 2 ;;
  esac
  [[ " ${packages[*]} " == *" $pkg "* ]] || packages+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-tools: installing ${packages[*]} from Debian (missing: ${missing[*]})" >&2
policy=/usr/sbin/policy-rc.d made_policy=
if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; made_policy=1; fi
restore() { if [ -n "$made_policy" ]; then rm -f "$policy"; fi; }
trap restore EXIT
timeout 300 apt-get update -qq || { echo "install-tools: apt-get update failed" >&2; exit 1; }
DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null \
  || { echo "install-tools: apt-get install ${packages[*]} failed" >&2; exit 1; }
if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
  systemctl stop prometheus; systemctl disable --quiet prometheus || true
fi
for cmd in "$@"; do
  command -v "$cmd" >/dev/null || { echo "install-tools: '$cmd' still missing after the install" >&2; exit 1; }
done
if command -v prometheus >/dev/null; then
  echo "install-tools: installed: $(prometheus --version 2>&1 | head -1)" >&2
fi
