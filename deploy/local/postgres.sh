#!/usr/bin/env bash
# A private PostgreSQL cluster under .local/pg, or an existing server when COHORT_DATABASE_URL is set.
# Usage: postgres.sh install|start|stop [fast|immediate]|status|url
#   stop immediate  aborts the server as a crash would (no checkpoint; recovery at the next start):
#                   what the chaos suite does to it
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PG_HOME="$COHORT_LOCAL/pg"
# As root the cluster runs as the 'postgres' user, which must be able to reach its folder. When a
# parent of the checkout is closed to other users (a home folder, say), the cluster lives in
# /var/tmp under a name derived from the checkout instead.
choose_home() {
  if [[ "$(id -u)" == 0 ]] && id postgres >/dev/null 2>&1 && ! runuser -u postgres -- test -x "$COHORT_LOCAL" 2>/dev/null; then
    PG_HOME="/var/tmp/cohort-pg-$(printf '%s' "$COHORT_LOCAL" | sha1sum | cut -c1-12)"
  fi
  PG_DATA="$PG_HOME/data"
  PG_SOCK="$PG_HOME/run"
  PG_PASSFILE="$PG_HOME/password"
  # Written by the server process itself, so it lives in the folder that user owns.
  PG_LOG="$PG_HOME/postgres.log"
}
choose_home
PG_USER=cohort
PG_DB=cohort

pg_bindir() {
  local d
  if command -v pg_config >/dev/null 2>&1 && [[ -x "$(pg_config --bindir)/initdb" ]]; then pg_config --bindir; return; fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x "$d/initdb" && -x "$d/pg_ctl" ]] && { echo "$d"; return; }
  done
  return 1
}

install() {
  pg_bindir >/dev/null && return 0
  [[ "$(id -u)" == 0 ]] || die "PostgreSQL server binaries are missing; install Debian's 'postgresql' package or set COHORT_DATABASE_URL"
  log "installing Debian's postgresql package"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$LOG_DIR/apt.log" 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >>"$LOG_DIR/apt.log" 2>&1 \
    || { tail -20 "$LOG_DIR/apt.log" >&2; die "apt-get install postgresql failed"; }
  pg_bindir >/dev/null || die "postgresql installed but initdb not found"
}

# PostgreSQL refuses to run as root: as root, the cluster belongs to the 'postgres' system user.
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PG_HOME" --shell /usr/sbin/nologin postgres
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

password() { cat "$PG_PASSFILE"; }

url() {
  if [[ -n "${COHORT_DATABASE_URL:-}" ]]; then echo "$COHORT_DATABASE_URL"; return; fi
  echo "postgresql://$PG_USER:$(password)@127.0.0.1:$PG_PORT/$PG_DB"
}

start() {
  if [[ -n "${COHORT_DATABASE_URL:-}" ]]; then log "using the existing PostgreSQL at COHORT_DATABASE_URL"; return 0; fi
  install
  choose_home  # the package may just have created the postgres user
  local bin; bin="$(pg_bindir)"
  mkdir -p "$PG_HOME" "$PG_SOCK"
  if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
    log "initialising a PostgreSQL cluster in $PG_DATA"
    umask 077
    head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$PG_PASSFILE"
    umask 022
    [[ "$(id -u)" == 0 ]] && { as_owner true; chown -R postgres "$PG_HOME"; }
    as_owner "$bin/initdb" -D "$PG_DATA" -U "$PG_USER" --pwfile="$PG_PASSFILE" \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >>"$PG_LOG" 2>&1 \
      || { tail -20 "$PG_LOG" >&2; die "initdb failed"; }
  fi
  [[ "$(id -u)" == 0 ]] && chown -R postgres "$PG_HOME"
  if as_owner "$bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    log "postgres already running"
  else
    log "starting postgres on 127.0.0.1:$PG_PORT"
    as_owner "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_SOCK -c max_connections=300 -c fsync=${COHORT_PG_FSYNC:-on} -c autovacuum_naptime=10s -c random_page_cost=1.1 $(tls_options) ${COHORT_PG_OPTIONS:-}" \
      >/dev/null || { tail -30 "$PG_LOG" >&2; die "postgres did not start"; }
  fi
  if ! PGPASSWORD="$(password)" "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1; then
    PGPASSWORD="$(password)" "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" "$PG_DB"
  fi
}

# TLS with the local CA's certificate when stack.sh has made one (it does before starting the
# server): clients may then ask for sslmode=verify-full, as `make up TLS=1` does. The server reads
# its key only when the key belongs to it and nobody else may read it, hence a copy of its own.
tls_options() {
  local tls="$KEYS_DIR/tls"
  [[ -f "$tls/tls.pem" && -f "$tls/tls.key" ]] || return 0
  mkdir -p "$PG_HOME/tls"
  cp "$tls/tls.pem" "$PG_HOME/tls/server.crt"
  cp "$tls/tls.key" "$PG_HOME/tls/server.key"
  chmod 600 "$PG_HOME/tls/server.key"
  [[ "$(id -u)" == 0 ]] && chown -R postgres "$PG_HOME/tls"
  printf -- '-c ssl=on -c ssl_cert_file=%s -c ssl_key_file=%s' "$PG_HOME/tls/server.crt" "$PG_HOME/tls/server.key"
}

stop() {
  local mode="${1:-fast}"
  [[ "$mode" == fast || "$mode" == immediate ]] || die "stop mode must be fast or immediate"
  [[ -n "${COHORT_DATABASE_URL:-}" ]] && return 0
  [[ -f "$PG_DATA/postmaster.pid" ]] || return 0
  local bin; bin="$(pg_bindir)" || return 0
  log "stopping postgres ($mode)"
  as_owner "$bin/pg_ctl" -D "$PG_DATA" -m "$mode" -w stop >/dev/null 2>&1 || true
}

status() {
  if [[ -n "${COHORT_DATABASE_URL:-}" ]]; then echo "postgres: external (COHORT_DATABASE_URL)"; return; fi
  local bin; bin="$(pg_bindir 2>/dev/null)" || { echo "postgres: not installed"; return; }
  if [[ -f "$PG_DATA/PG_VERSION" ]] && as_owner "$bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    echo "postgres: running (127.0.0.1:$PG_PORT, data $PG_DATA)"
  else
    echo "postgres: stopped"
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop "${2:-fast}" ;;
  status) status ;;
  url) url ;;
  *) die "usage: postgres.sh install|start|stop [fast|immediate]|status|url" ;;
esac
