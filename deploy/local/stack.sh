#!/usr/bin/env bash
# The whole local platform on one machine, without containers: Kafka, PostgreSQL, four services
# and the expert workbench.
# Usage: stack.sh up|down|status|env|infra-up|infra-down
#   up/down       Kafka + PostgreSQL + the services and the workbench (make up / make down)
#   infra-up/down Kafka + PostgreSQL only (what the test suite needs)
#   env [--plain] print the environment (exports) that points a process at the local stack
#                 (--plain: without TLS, even when the stack was started with TLS=1)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

HERE="$REPO_ROOT/deploy/local"
PY="$REPO_ROOT/.venv/bin/python"
KEYS="$COHORT_LOCAL/keys"
ALL_SERVICES=(intake tasking qa payout workbench)
# `up` starts these (COHORT_SERVICES="qa" starts QA alone, e.g. for a benchmark); `down` stops all.
read -r -a SERVICES <<<"${COHORT_SERVICES:-${ALL_SERVICES[*]}}"
# Below Linux's ephemeral range (32768-60999): at 50051-50054 a service's outgoing PostgreSQL or
# Kafka connection could be given the next service's port, which then failed to bind.
declare -A GRPC_PORT=([intake]=15051 [tasking]=15052 [qa]=15053 [payout]=15054 [workbench]=15055)
declare -A METRICS_PORT=([intake]=9101 [tasking]=9102 [qa]=9103 [payout]=9104 [workbench]=9105)
WORKBENCH_HTTP_PORT="${COHORT_WORKBENCH_HTTP_PORT:-8088}"

# `make up TLS=1`: every gRPC port speaks TLS with a local CA and asks callers for a certificate
# (mutual TLS); the clients (CLI, demo, workbench, probes) present the same local certificate. The
# choice is remembered until `make down`, so later commands get the same environment.
tls_on() { [[ "${TLS:-0}" == 1 || -f "$RUN_DIR/tls" ]]; }

# print_env [--plain]: --plain leaves TLS out even on a stack started with TLS=1 (the test suite
# chooses TLS itself, test by test).
print_env() {
  [[ -x "$PY" ]] || die ".venv missing: run 'make setup' first"
  "$PY" "$REPO_ROOT/scripts/dev_keys.py" "$KEYS" --tls
  local secure=0
  if tls_on && [[ "${1:-}" != --plain ]]; then secure=1; fi
  if (( secure )); then
    printf 'export COHORT_TLS_CA_FILE=%q\n' "$KEYS/tls/ca.pem"
    printf 'export COHORT_TLS_CLIENT_CA_FILE=%q\n' "$KEYS/tls/ca.pem"
    printf 'export COHORT_TLS_CERT_FILE=%q\n' "$KEYS/tls/tls.pem"
    printf 'export COHORT_TLS_KEY_FILE=%q\n' "$KEYS/tls/tls.key"
  fi
  if (( secure )) && [[ -z "${COHORT_DATABASE_URL:-}" ]]; then
    # The local server's certificate checked against the local CA, name included.
    printf 'export COHORT_DATABASE_URL=%q\n' "$(bash "$HERE/postgres.sh" url)?sslmode=verify-full&sslrootcert=$KEYS/tls/ca.pem"
  else
    printf 'export COHORT_DATABASE_URL=%q\n' "$(bash "$HERE/postgres.sh" url)"
  fi
  if (( secure )) && [[ -z "${COHORT_KAFKA_BOOTSTRAP:-}" ]]; then
    # The local broker's TLS listener, SASL user `cohort` (deploy/local/kafka.sh).
    printf 'export COHORT_KAFKA_BOOTSTRAP=%q\n' "127.0.0.1:$KAFKA_SASL_SSL_PORT"
    printf 'export COHORT_KAFKA_SECURITY_PROTOCOL=SASL_SSL\n'
    printf 'export COHORT_KAFKA_CA_FILE=%q\n' "$KEYS/tls/ca.pem"
    printf 'export COHORT_KAFKA_SASL_MECHANISM=PLAIN\n'
    printf 'export COHORT_KAFKA_SASL_USERNAME=cohort\n'
    printf 'export COHORT_KAFKA_SASL_PASSWORD=%q\n' "$(cat "$KEYS/kafka.password")"
  else
    printf 'export COHORT_KAFKA_BOOTSTRAP=%q\n' "${COHORT_KAFKA_BOOTSTRAP:-127.0.0.1:$KAFKA_PORT}"
  fi
  # What of the local stack speaks TLS, for the tests that use it (tests/test_tls.py).
  printf 'export COHORT_LOCAL_KEYS=%q\n' "$KEYS"
  if [[ -z "${COHORT_KAFKA_BOOTSTRAP:-}" ]]; then
    printf 'export COHORT_LOCAL_KAFKA_SASL_SSL=%q\n' "127.0.0.1:$KAFKA_SASL_SSL_PORT"
  fi
  if [[ -z "${COHORT_DATABASE_URL:-}" ]]; then printf 'export COHORT_LOCAL_PG_TLS=1\n'; fi
  printf 'export COHORT_TOKEN_PUBLIC_KEY=%q\n' "$(cat "$KEYS/token_public.pem")"
  printf 'export COHORT_TOKEN_PRIVATE_KEY_FILE=%q\n' "$KEYS/token_private.pem"
  # Intake signs lab tokens with the private half; QA and payout accept them with the public one.
  printf 'export COHORT_LAB_TOKEN_PRIVATE_KEY=%q\n' "$(cat "$KEYS/lab_token_private.pem")"
  printf 'export COHORT_LAB_TOKEN_PUBLIC_KEY=%q\n' "$(cat "$KEYS/lab_token_public.pem")"
  printf 'export COHORT_PAYOUT_PAYEE_KEY=%q\n' "$(cat "$KEYS/payee.key")"
  printf 'export COHORT_PAGE_TOKEN_SECRET=%q\n' "$(cat "$KEYS/page_token.secret")"
  # Intake seals webhook signing secrets at rest with this.
  printf 'export COHORT_INTAKE_WEBHOOK_SECRET_KEY=%q\n' "$(cat "$KEYS/webhook_secret.key")"
  # Intake and QA show labs per-lab pseudonyms of expert ids, keyed by this.
  printf 'export COHORT_PSEUDONYM_KEY=%q\n' "$(cat "$KEYS/pseudonym.key")"
  # The workbench on plain HTTP at loopback: cookies without Secure, links to this address.
  printf 'export COHORT_WORKBENCH_HTTP_PORT=%q\n' "$WORKBENCH_HTTP_PORT"
  printf 'export COHORT_WORKBENCH_PUBLIC_URL=%q\n' "http://127.0.0.1:$WORKBENCH_HTTP_PORT"
  printf 'export COHORT_WORKBENCH_SECURE_COOKIES=false\n'
  # A fictitious platform account for payment files on the local stack (a valid test IBAN).
  printf 'export COHORT_PAYOUT_DEBTOR_NAME=%q\n' "Cohort Local"
  printf 'export COHORT_PAYOUT_DEBTOR_IBAN=%q\n' "DE89370400440532013000"
  printf 'export COHORT_PAYOUT_DEBTOR_BIC=%q\n' "COBADEFFXXX"
}

infra_up() {
  # The secrets first: the broker's TLS listener needs the local CA and its password.
  [[ -x "$PY" ]] || die ".venv missing: run 'make setup' first"
  "$PY" "$REPO_ROOT/scripts/dev_keys.py" "$KEYS" --tls
  bash "$HERE/postgres.sh" start
  if [[ -n "${COHORT_KAFKA_BOOTSTRAP:-}" ]]; then log "using the existing Kafka at $COHORT_KAFKA_BOOTSTRAP"
  else bash "$HERE/kafka.sh" start; fi
}

infra_down() {
  [[ -n "${COHORT_KAFKA_BOOTSTRAP:-}" ]] || bash "$HERE/kafka.sh" stop
  bash "$HERE/postgres.sh" stop
}

services_up() {
  local svc pidf U
  eval "$(print_env)"
  for svc in "${SERVICES[@]}"; do
    pidf="$RUN_DIR/$svc.pid"
    if pid_alive "$pidf"; then log "$svc already running (pid $(cat "$pidf"))"; continue; fi
    U="${svc^^}"
    log "starting $svc (gRPC 127.0.0.1:${GRPC_PORT[$svc]}, metrics :${METRICS_PORT[$svc]})"
    env "COHORT_${U}_GRPC_PORT=${GRPC_PORT[$svc]}" "COHORT_${U}_METRICS_PORT=${METRICS_PORT[$svc]}" \
      nohup "$PY" -m "cohort_$svc" >>"$LOG_DIR/$svc.log" 2>&1 </dev/null &
    echo $! >"$pidf"
  done
  for svc in "${SERVICES[@]}"; do
    if ! "$PY" -m cohort_runtime.probe "127.0.0.1:${GRPC_PORT[$svc]}" --wait 60; then
      tail -30 "$LOG_DIR/$svc.log" >&2
      die "$svc did not become healthy (log: $LOG_DIR/$svc.log)"
    fi
    log "$svc serving"
  done
  if [[ " ${SERVICES[*]} " == *" workbench "* ]]; then log "workbench pages at http://127.0.0.1:$WORKBENCH_HTTP_PORT/"; fi
}

services_down() {
  local i
  for (( i=${#ALL_SERVICES[@]}-1; i>=0; i-- )); do stop_pid "${ALL_SERVICES[$i]}" "$RUN_DIR/${ALL_SERVICES[$i]}.pid"; done
}

status() {
  bash "$HERE/postgres.sh" status
  bash "$HERE/kafka.sh" status
  local svc
  for svc in "${ALL_SERVICES[@]}"; do
    if pid_alive "$RUN_DIR/$svc.pid"; then
      echo "$svc: running (pid $(cat "$RUN_DIR/$svc.pid"), gRPC 127.0.0.1:${GRPC_PORT[$svc]}, metrics http://127.0.0.1:${METRICS_PORT[$svc]}/metrics)"
    else
      echo "$svc: stopped"
    fi
  done
}

case "${1:-}" in
  up) if [[ "${TLS:-0}" == 1 ]]; then touch "$RUN_DIR/tls"; fi; infra_up; services_up ;;
  services-down) services_down ;;
  down) services_down; infra_down; rm -f "$RUN_DIR/tls" ;;
  infra-up) infra_up ;;
  infra-down) infra_down ;;
  status) status ;;
  env) print_env "${2:-}" ;;
  *) die "usage: stack.sh up|down|status|env|infra-up|infra-down|services-down" ;;
esac
