"""Settings every service shares, read from the environment under a per-service prefix."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from cohort_runtime.kafka import KafkaSecurity, SaslMechanism, SecurityProtocol


class ServiceSettings(BaseSettings):
    """Base settings; a service subclasses it and sets `env_prefix` (e.g. COHORT_INTAKE_).

    Values that are the same for the whole platform (database URL, Kafka address, the token
    public key) may also come from the shared COHORT_* name, so a local stack sets them once.
    """

    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    service_name: str
    database_url: SecretStr = Field(validation_alias="COHORT_DATABASE_URL")
    db_schema: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    db_pool_min: int = Field(default=1, ge=1)
    db_pool_max: int = Field(default=10, ge=1)
    migrations_dir: Path
    kafka_bootstrap: str = Field(default="127.0.0.1:19092", validation_alias="COHORT_KAFKA_BOOTSTRAP")
    # How the brokers are reached (cohort_runtime.kafka.KafkaSecurity): TLS trusting the CA file
    # (the system's CAs when unset), a client certificate when the brokers ask for one, SASL with a
    # user and password (SCRAM in production). The same for every service, hence shared names.
    kafka_security_protocol: SecurityProtocol = Field(
        default="PLAINTEXT", validation_alias="COHORT_KAFKA_SECURITY_PROTOCOL"
    )
    kafka_ca_file: Path | None = Field(default=None, validation_alias="COHORT_KAFKA_CA_FILE")
    kafka_cert_file: Path | None = Field(default=None, validation_alias="COHORT_KAFKA_CERT_FILE")
    kafka_key_file: Path | None = Field(default=None, validation_alias="COHORT_KAFKA_KEY_FILE")
    kafka_sasl_mechanism: SaslMechanism | None = Field(default=None, validation_alias="COHORT_KAFKA_SASL_MECHANISM")
    kafka_sasl_username: str | None = Field(default=None, validation_alias="COHORT_KAFKA_SASL_USERNAME")
    kafka_sasl_password: SecretStr | None = Field(default=None, validation_alias="COHORT_KAFKA_SASL_PASSWORD")
    # Prepended to every topic name, so several environments (or test runs) can share one cluster
    # without seeing each other's events. Empty in a dedicated cluster.
    topic_prefix: str = Field(default="", validation_alias="COHORT_TOPIC_PREFIX", pattern=r"^[a-z0-9._-]*$")
    # Consumer groups are "<prefix>.<subscription>"; the prefix defaults to the service name.
    kafka_group_prefix: str | None = None
    kafka_partitions: int = Field(default=3, ge=1)
    kafka_replication: int = Field(default=1, ge=1)
    # A consumer's fetch returns once this many bytes are there or the wait is over, whichever
    # comes first. Returning at the first byte (Kafka's default) makes every event a fetch, a
    # transaction and an offset commit of its own under light traffic, several times the cost of
    # an event in a batch; an event waits at most the 200 ms when traffic is thin. The figures
    # behind these values are the platform benchmark's rows on fetch waits in docs/BENCHMARKS.md.
    kafka_fetch_min_bytes: int = Field(default=16384, ge=1, validation_alias="COHORT_KAFKA_FETCH_MIN_BYTES")
    kafka_fetch_max_wait_ms: int = Field(default=200, ge=0, validation_alias="COHORT_KAFKA_FETCH_MAX_WAIT_MS")
    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(default=0, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=0, ge=0, le=65535)
    shutdown_grace_seconds: float = Field(default=10.0, gt=0)
    log_level: str = "INFO"
    otlp_endpoint: str | None = Field(default=None, validation_alias="COHORT_OTLP_ENDPOINT")
    # Share of traces recorded; unset: all when an OTLP endpoint is set, none otherwise.
    trace_sample_ratio: float | None = Field(default=None, ge=0, le=1, validation_alias="COHORT_TRACE_SAMPLE_RATIO")
    # Ed25519 public key (PEM) that verifies expert, reviewer and operator tokens.
    token_public_key: SecretStr | None = Field(default=None, validation_alias="COHORT_TOKEN_PUBLIC_KEY")
    # Ed25519 public key (PEM) of the lab tokens intake issues for API keys; set on the services
    # that answer labs with a token (QA, payout). Unset: lab tokens are refused.
    lab_token_public_key: SecretStr | None = Field(default=None, validation_alias="COHORT_LAB_TOKEN_PUBLIC_KEY")
    # Keys the per-lab pseudonyms labs see in place of expert ids (cohort_runtime.pseudonyms); the
    # same on intake and QA. Unset: labs are shown no expert ids at all, never the real ones.
    pseudonym_key: SecretStr | None = Field(default=None, validation_alias="COHORT_PSEUDONYM_KEY")
    # Signs AIP-158 page tokens; the same on every replica of every service (a Kubernetes Secret).
    page_token_secret: SecretStr | None = Field(default=None, validation_alias="COHORT_PAGE_TOKEN_SECRET")
    # Per replica: requests a second each caller (lab, expert, operator) may make, and the burst
    # above it; failed authentications an address may make per minute before it waits.
    rate_limit_per_second: float = Field(default=200.0, gt=0)
    rate_limit_burst: float = Field(default=400.0, ge=1)
    auth_failures_per_minute: int = Field(default=30, ge=1)
    # Networks of the proxies (an ingress) whose x-forwarded-for names the client; empty: none.
    trusted_proxies: str = Field(default="", validation_alias="COHORT_TRUSTED_PROXIES")
    # TLS on the gRPC port (PEM files, mounted from a Secret): certificate and key turn it on; a
    # client CA makes it mutual (callers must present a certificate it signed).
    tls_cert_file: Path | None = Field(default=None, validation_alias="COHORT_TLS_CERT_FILE")
    tls_key_file: Path | None = Field(default=None, validation_alias="COHORT_TLS_KEY_FILE")
    tls_client_ca_file: Path | None = Field(default=None, validation_alias="COHORT_TLS_CLIENT_CA_FILE")
    # The CA this service trusts for the services it calls (and that probes trust).
    tls_ca_file: Path | None = Field(default=None, validation_alias="COHORT_TLS_CA_FILE")
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    outbox_retention_hours: float = Field(default=168.0, gt=0)
    inbox_max_attempts: int = Field(default=5, ge=1)
    # How long handled event ids are remembered against redelivery: longer than any topic keeps its
    # records (Kafka's default retention is 7 days; the DLQ's too), with a margin.
    inbox_retention_hours: float = Field(default=336.0, gt=0)

    def kafka_security(self) -> KafkaSecurity:
        return KafkaSecurity(
            protocol=self.kafka_security_protocol,
            ca_file=self.kafka_ca_file,
            cert_file=self.kafka_cert_file,
            key_file=self.kafka_key_file,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=self.kafka_sasl_username,
            sasl_password=self.kafka_sasl_password.get_secret_value() if self.kafka_sasl_password else None,
        )

    def token_public_key_pem(self) -> str | None:
        return self.token_public_key.get_secret_value() if self.token_public_key else None

    def pseudonym_key_bytes(self) -> bytes | None:
        # An empty value is no key: an HMAC under "" would be a pseudonym anyone can compute.
        key = self.pseudonym_key.get_secret_value() if self.pseudonym_key else ""
        return key.encode() or None

    def lab_token_public_key_pem(self) -> str | None:
        return self.lab_token_public_key.get_secret_value() if self.lab_token_public_key else None
