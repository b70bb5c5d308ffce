# Shared helpers for the local stack scripts: paths, ports, PID handling.
# Sourced, not executed. Everything lives under $COHORT_LOCAL (default: <repo>/.local).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
COHORT_LOCAL="${COHORT_LOCAL:-$REPO_ROOT/.local}"
KAFKA_PORT="${COHORT_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${COHORT_KAFKA_CONTROLLER_PORT:-19093}"
# The broker's second listener: TLS with the local CA's certificate, SASL/PLAIN user `cohort`.
KAFKA_SASL_SSL_PORT="${COHORT_KAFKA_SASL_SSL_PORT:-$((KAFKA_PORT + 2))}"
KEYS_DIR="$COHORT_LOCAL/keys"
PG_PORT="${COHORT_PG_PORT:-15432}"
LOG_DIR="$COHORT_LOCAL/logs"
RUN_DIR="$COHORT_LOCAL/run"
mkdir -p "$LOG_DIR" "$RUN_DIR"

log() { printf '[local] %s\n' "$*" >&2; }
die() { printf '[local] error: %s\n' "$*" >&2; exit 1; }

# pid_alive FILE: true when FILE names a running process.
pid_alive() {
  local f="$1"
  [[ -s "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null
}

# stop_pid NAME FILE: SIGTERM the process in FILE, wait up to 30 s, then SIGKILL.
# Only ever the recorded PID: never a name pattern.
stop_pid() {
  local name="$1" f="$2" pid i
  if ! pid_alive "$f"; then rm -f "$f"; return 0; fi
  pid="$(cat "$f")"
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$f"; return 0; }
    sleep 0.1
  done
  log "$name did not stop in 30 s; killing"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$f"
}

# wait_port HOST PORT SECONDS: true once a TCP connect succeeds.
wait_port() {
  local host="$1" port="$2" secs="$3" i
  for i in $(seq 1 $((secs * 10))); do
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
