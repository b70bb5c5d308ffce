#!/usr/bin/env bash
# Single-node KRaft Kafka from Maven Central jars, no tarball, no container.
# Usage: kafka.sh install|start|stop|status
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

KAFKA_HOME="$COHORT_LOCAL/kafka"
KAFKA_LIBS="$KAFKA_HOME/libs"
KAFKA_DATA="$KAFKA_HOME/data"
KAFKA_PID="$RUN_DIR/kafka.pid"
KAFKA_LOG="$LOG_DIR/kafka.log"
POM="$REPO_ROOT/deploy/local/kafka/pom.xml"
JAVA_OPTS=(-Xms128m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true)

install() {
  # The stamp records which pom produced the folder, so a version bump re-resolves.
  local stamp="$KAFKA_LIBS/.pom.sha256" want
  want="$(sha256sum "$POM" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found (Maven resolves the Kafka jars)"
  command -v java >/dev/null || die "java not found (Kafka 4 needs Java 17+)"
  log "resolving Kafka jars with Maven into $KAFKA_LIBS"
  rm -rf "$KAFKA_LIBS"
  mvn -q -B -f "$POM" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$KAFKA_LIBS" >"$LOG_DIR/kafka-maven.log" 2>&1 \
    || { cat "$LOG_DIR/kafka-maven.log" >&2; die "Maven could not resolve the Kafka jars"; }
  echo "$want" >"$stamp"
}

write_config() {
  mkdir -p "$KAFKA_HOME/config"
  # The TLS listener presents the local CA's certificate (scripts/dev_keys.py --tls, made by
  # stack.sh before the broker starts): key and chain in one PEM file, as Kafka reads them.
  local tls="$KEYS_DIR/tls" keystore="$KAFKA_HOME/config/keystore.pem"
  [[ -f "$tls/tls.pem" && -f "$tls/tls.key" && -f "$KEYS_DIR/kafka.password" ]] \
    || die "the local CA and Kafka password are missing in $KEYS_DIR: start Kafka through stack.sh"
  (umask 077 && cat "$tls/tls.key" "$tls/tls.pem" >"$keystore")
  # Holds the SASL password: readable by its owner only, before anything is written to it.
  install -m 600 /dev/null "$KAFKA_HOME/config/server.properties"
  cat >"$KAFKA_HOME/config/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,SASL_SSL://127.0.0.1:$KAFKA_SASL_SSL_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,SASL_SSL://127.0.0.1:$KAFKA_SASL_SSL_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
# SASL over TLS: what "make up TLS=1" and tests/test_tls.py use. PLAIN with one static user is
# enough for a local broker; production brokers use SCRAM or mTLS (docs/deploy.md).
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_cohort="$(cat "$KEYS_DIR/kafka.password")";
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$keystore
log.dirs=$KAFKA_DATA
num.partitions=3
# Topics are declared and created by the services; a typo must not invent a topic.
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Single node: rebalance at once instead of waiting 3 s for more members.
group.initial.rebalance.delay.ms=0
log.retention.hours=24
PROPS
  cat >"$KAFKA_HOME/config/log4j2.yaml" <<'YAML'
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.request.logger
        level: WARN
      - name: org.apache.kafka.controller
        level: WARN
      - name: state.change.logger
        level: WARN
YAML
}

java_cmd() {
  java "${JAVA_OPTS[@]}" -Dlog4j2.configurationFile="$KAFKA_HOME/config/log4j2.yaml" -cp "$KAFKA_LIBS/*" "$@"
}

start() {
  if pid_alive "$KAFKA_PID"; then log "kafka already running (pid $(cat "$KAFKA_PID"))"; return 0; fi
  install
  # Another broker on our ports would answer the readiness check in our broker's place.
  if (exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT") 2>/dev/null || (exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_CONTROLLER_PORT") 2>/dev/null; then
    die "port $KAFKA_PORT or $KAFKA_CONTROLLER_PORT is taken by another process; set COHORT_KAFKA_PORT/COHORT_KAFKA_CONTROLLER_PORT, or COHORT_KAFKA_BOOTSTRAP to use that broker"
  fi
  write_config
  if [[ ! -f "$KAFKA_DATA/meta.properties" ]]; then
    log "formatting KRaft storage"
    java_cmd kafka.tools.StorageTool format --standalone --ignore-formatted \
      --cluster-id "$(java_cmd kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)" \
      --config "$KAFKA_HOME/config/server.properties" >>"$KAFKA_LOG" 2>&1 \
      || { tail -30 "$KAFKA_LOG" >&2; die "kafka storage format failed"; }
  fi
  log "starting kafka on 127.0.0.1:$KAFKA_PORT"
  local t0=$SECONDS from
  from=$(( $(stat -c %s "$KAFKA_LOG" 2>/dev/null || echo 0) + 1 ))
  # java itself in the background (not a function or subshell), so $! is the broker's own PID.
  java "${JAVA_OPTS[@]}" -Dlog4j2.configurationFile="$KAFKA_HOME/config/log4j2.yaml" -cp "$KAFKA_LIBS/*" \
    kafka.Kafka "$KAFKA_HOME/config/server.properties" >>"$KAFKA_LOG" 2>&1 </dev/null &
  echo $! >"$KAFKA_PID"
  wait_ready 90 "$from" || { tail -50 "$KAFKA_LOG" >&2; stop_pid kafka "$KAFKA_PID"; die "kafka did not become ready"; }
  log "kafka ready in $((SECONDS - t0)) s"
}

# Ready means the broker says it has started (its log, from where this start began), not merely
# that the port is open. Read from the log rather than asked with a Kafka tool: each tool start is
# a JVM, which on a small machine slows the broker's own start (and a restart under load) by seconds.
wait_ready() {
  local secs="$1" from="$2" i
  for i in $(seq 1 $((secs * 5))); do
    pid_alive "$KAFKA_PID" || return 1
    # Not `tail | grep -q`: under pipefail, grep quitting at its match kills tail with SIGPIPE when
    # the start logged much (thousands of deleted test topics), and the pipeline then reads as "no".
    if grep -q 'BrokerServer id=[0-9]*\] Transition from STARTING to STARTED' < <(tail -c +"$from" "$KAFKA_LOG"); then
      wait_port 127.0.0.1 "$KAFKA_PORT" 5
      return
    fi
    sleep 0.2
  done
  return 1
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop_pid kafka "$KAFKA_PID" ;;
  status)
    if pid_alive "$KAFKA_PID"; then echo "kafka: running (pid $(cat "$KAFKA_PID"), 127.0.0.1:$KAFKA_PORT)";
    else echo "kafka: stopped"; fi ;;
  *) die "usage: kafka.sh install|start|stop|status" ;;
esac
