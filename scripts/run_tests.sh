#!/usr/bin/env bash
# Runs the test suite against a real Kafka and PostgreSQL. Starts what is not already running and
# stops exactly that afterwards, also when tests fail or the run is interrupted.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source deploy/local/common.sh

started_kafka=0
started_pg=0
cleanup() {
  local rc=$?
  if (( started_kafka )); then bash deploy/local/kafka.sh stop || true; fi
  if (( started_pg )); then bash deploy/local/postgres.sh stop || true; fi
  exit "$rc"
}
trap cleanup EXIT INT TERM

if [[ -z "${COHORT_KAFKA_BOOTSTRAP:-}" ]] && ! pid_alive "$RUN_DIR/kafka.pid"; then started_kafka=1; fi
if [[ -z "${COHORT_DATABASE_URL:-}" ]] && ! bash deploy/local/postgres.sh status | grep -q running; then started_pg=1; fi
t0=$SECONDS
bash deploy/local/stack.sh infra-up
log "infrastructure ready in $((SECONDS - t0)) s"

set +e
# The stack's environment only for pytest: exported here it would make the clean-up take the
# local PostgreSQL for an external one and leave it running.
# Without the TLS settings of a stack started with TLS=1: the tests choose TLS themselves.
(eval "$(bash deploy/local/stack.sh env --plain)" && exec .venv/bin/pytest -q -ra --durations=10 "$@")
rc=$?
set -e
if (( rc == 5 )); then
  log "pytest collected no tests"
  rc=0
fi
exit "$rc"
