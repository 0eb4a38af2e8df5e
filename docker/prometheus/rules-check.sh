#!/usr/bin/env bash
# rules-check.sh - checks framepipe's alerting rules offline (no server, no Prometheus running):
#
#   1. installs Debian's `prometheus` package (which ships promtool) when promtool is missing
#      (install-tools.sh, shared with ci-check.sh);
#   2. promtool check rules alerts.yml (syntax, PromQL, templates);
#   3. promtool test rules alerts.test.yml (every alert fires on synthetic series where it
#      should and stays silent where it should not);
#   4. promtool check config prometheus.yml (compose's configuration, which loads alerts.yml);
#   5. docker/k8s/prometheusrule.yaml carries exactly alerts.yml's groups.
#
#   docker/prometheus/rules-check.sh                 the checks; exits non-zero on any failure
#   docker/prometheus/rules-check.sh --update-k8s    rewrites docker/k8s/prometheusrule.yaml from
#                                                    alerts.yml first (after editing the rules)
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
K8S_RULE=$HERE/../k8s/prometheusrule.yaml
update=
case "${1:-}" in
  "") ;;
  --update-k8s) update=1 ;;
  *) echo "usage: $0 [--update-k8s]" >&2; exit 2 ;;
esac

fail() { echo "[rules-check] FAIL: $*" >&2; exit 1; }

# The PrometheusRule: a fixed head, then alerts.yml from its `groups:` line on, indented under
# spec (indenting every line keeps YAML block scalars intact).
prometheus_rule() {
  cat <<'EOF'
# GENERATED from docker/prometheus/alerts.yml by `docker/prometheus/rules-check.sh --update-k8s`:
# edit alerts.yml and run that; rules-check.sh and KubernetesManifestsTest fail when they differ.
# For the Prometheus Operator (monitoring.coreos.com CRDs). Your Prometheus resource's
# ruleSelector must match these labels (for kube-prometheus-stack: release: <its release>), and
# its ruleNamespaceSelector this namespace. FramepipeDown selects the scrape job by name: the
# PodMonitor's job is <namespace>/framepipe, which it matches.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: framepipe
  labels:
    app.kubernetes.io/name: framepipe
spec:
EOF
  sed -n '/^groups:/,$p' "$HERE/alerts.yml" | sed 's/^./  &/'
}

if [ -n "$update" ]; then
  prometheus_rule > "$K8S_RULE"
  echo "[rules-check] wrote $(realpath --relative-to="$PWD" "$K8S_RULE")"
fi

"$HERE/install-tools.sh" promtool || fail "promtool is missing and could not be installed"
echo "[rules-check] $(promtool --version 2>&1 | head -1)"

promtool check rules "$HERE/alerts.yml" || fail "promtool check rules alerts.yml"
# promtool resolves rule_files against the test file's directory
(cd "$HERE" && promtool test rules alerts.test.yml) || fail "promtool test rules alerts.test.yml"
promtool check config "$HERE/prometheus.yml" || fail "promtool check config prometheus.yml"

[ -f "$K8S_RULE" ] || fail "$K8S_RULE is missing: run $0 --update-k8s"
diff -u "$K8S_RULE" <(prometheus_rule) >&2 \
  || fail "docker/k8s/prometheusrule.yaml differs from alerts.yml (diff above): run $0 --update-k8s"
echo "[rules-check] docker/k8s/prometheusrule.yaml matches alerts.yml"
echo "[rules-check] PASS"
