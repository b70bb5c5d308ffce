#!/usr/bin/env bash
# Debian's Chromium for the workbench's browser tests (Playwright drives it by its path; a browser
# download cannot work on these machines). Usage: browser.sh install|path
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

chromium_path() {
  local p
  for p in "${COHORT_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    [[ -n "$p" && -x "$p" ]] && { echo "$p"; return 0; }
  done
  return 1
}

install() {
  chromium_path >/dev/null && return 0
  [[ "$(id -u)" == 0 ]] || die "Chromium is missing; install Debian's 'chromium' package (or set COHORT_CHROMIUM)"
  log "installing Debian's chromium package"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$LOG_DIR/apt-chromium.log" 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >>"$LOG_DIR/apt-chromium.log" 2>&1 \
    || { tail -20 "$LOG_DIR/apt-chromium.log" >&2; die "apt-get install chromium failed"; }
  chromium_path >/dev/null || die "chromium installed but not found"
}

case "${1:-}" in
  install) install ;;
  path) chromium_path || die "Chromium is missing: run 'make setup'" ;;
  *) die "usage: browser.sh install|path" ;;
esac
