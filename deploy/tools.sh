#!/usr/bin/env bash
# Deploy tooling, pinned, from the registries this project may use:
#   helm     — Go module proxy (go install helm.sh/helm/v3/cmd/helm@HELM_VERSION)
#   promtool — Debian's `prometheus` package (downloaded and unpacked, never installed as a
#              service: only the promtool binary is used)
# Usage: deploy/tools.sh helm|promtool   (prints the binary's path; installs it when missing)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/local/common.sh"

HELM_VERSION="v3.22.0"
TOOLS="$COHORT_LOCAL/tools"

helm_bin() {
  local bin="$TOOLS/go/bin/helm" stamp="$TOOLS/go/helm.version"
  # A go-installed helm reports only "v3.22": the stamp file records the exact version installed.
  if [[ ! -x "$bin" || "$(cat "$stamp" 2>/dev/null)" != "$HELM_VERSION" ]]; then
    [[ -x /usr/local/go/bin/go ]] && PATH="$PATH:/usr/local/go/bin"
    command -v go >/dev/null || die "go is needed to install helm $HELM_VERSION from the Go module proxy"
    log "installing helm $HELM_VERSION (go install; a few minutes the first time)"
    GOBIN="$TOOLS/go/bin" GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}" >&2
    echo "$HELM_VERSION" >"$stamp"
  fi
  echo "$bin"
}

promtool_bin() {
  local root="$TOOLS/prometheus" bin="$TOOLS/prometheus/usr/bin/promtool"
  if [[ ! -x "$bin" ]]; then
    if command -v promtool >/dev/null; then command -v promtool; return; fi
    command -v apt-get >/dev/null || die "promtool is needed: install Debian's prometheus package"
    log "fetching promtool from Debian's prometheus package"
    local tmp; tmp="$(mktemp -d)"
    ( cd "$tmp" && { apt-get download prometheus >"$tmp/apt.log" 2>&1 \
        || { [[ $EUID -eq 0 ]] && apt-get update -qq >>"$tmp/apt.log" 2>&1 && apt-get download prometheus >>"$tmp/apt.log" 2>&1; }; } ) \
      || { tail -20 "$tmp/apt.log" >&2; die "apt-get download prometheus failed"; }
    mkdir -p "$root"
    dpkg-deb -x "$tmp"/prometheus_*.deb "$root"
    rm -rf "$tmp"
  fi
  echo "$bin"
}

case "${1:-}" in
  helm) helm_bin ;;
  promtool) promtool_bin ;;
  *) die "usage: deploy/tools.sh helm|promtool" ;;
esac
