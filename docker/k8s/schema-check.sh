#!/usr/bin/env bash
# schema-check.sh - validates the manifests in this folder against the Kubernetes (and Prometheus
# Operator) schemas, offline: no cluster is needed, unlike `kubectl apply --dry-run`. Renders the
# kustomization with `kubectl kustomize` when kubectl is installed (so the kustomization itself
# is checked too), else validates the listed files. Needs node and npm (packages from the npm
# registry, pinned by schema-check/package-lock.json, installed outside the repository).
set -euo pipefail
HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
command -v npm >/dev/null || { echo "schema-check: npm not found (apt-get install nodejs npm)" >&2; exit 1; }
LOCK_HASH=$(cat "$HERE/schema-check/package.json" "$HERE/schema-check/package-lock.json" | sha256sum | cut -c1-12)
WORK=${TMPDIR:-/tmp}/framepipe-k8s-schema-$LOCK_HASH
if [ ! -f "$WORK/.installed" ]; then
  rm -rf "$WORK"; mkdir -p "$WORK"
  cp "$HERE/schema-check/package.json" "$HERE/schema-check/package-lock.json" "$WORK/"
  (cd "$WORK" && timeout 300 npm ci --no-audit --no-fund --loglevel=error --engine-strict=false) >&2
  touch "$WORK/.installed"
fi
cp "$HERE/schema-check/check.mjs" "$WORK/check.mjs"
if command -v kubectl >/dev/null; then
  timeout 60 kubectl kustomize "$HERE" > "$WORK/rendered.yaml"
  FILES=("$WORK/rendered.yaml")
else
  mapfile -t FILES < <(sed -n 's/^  - \([a-z-]*\.yaml\)$/\1/p' "$HERE/kustomization.yaml" | sed "s|^|$HERE/|")
fi
timeout 60 node "$WORK/check.mjs" "${FILES[@]}"
