"""Intake settings, from COHORT_INTAKE_* (and the platform-wide COHORT_* names)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from cohort_runtime import ServiceSettings
from cohort_runtime.sealing import SecretBox

_MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="COHORT_INTAKE_", frozen=True, extra="ignore", populate_by_name=True)

    service_name: str = "intake"
    db_schema: str = "intake"
    migrations_dir: Path = _MIGRATIONS
    grpc_port: int = 15051
    metrics_port: int = 9101
    # Projects one lab may create in any hour (across every replica: counted in the database).
    projects_per_lab_per_hour: int = Field(default=100, ge=1)
    # Ed25519 private key (PEM) that signs lab tokens (TokenService.ExchangeApiKey); its public half
    # is COHORT_LAB_TOKEN_PUBLIC_KEY on QA and payout. Unset: no lab tokens are issued.
    lab_token_private_key: SecretStr | None = Field(default=None, validation_alias="COHORT_LAB_TOKEN_PRIVATE_KEY")
    # How long a lab token is accepted: also how long a revoked key's last token outlives it.
    lab_token_minutes: float = Field(default=15.0, ge=1, le=60)
    # Master key (32+ characters) sealing webhook signing secrets at rest (AES-256-GCM, each bound
    # to its endpoint). Unset: no endpoint can be created or have its secret rotated.
    webhook_secret_key: SecretStr | None = None
    # Seconds before each retry of a failed webhook delivery (±20 % jitter); after the last, the
    # endpoint is marked failing. The default spans 27.6 hours over 8 attempts.
    webhook_retry_schedule: tuple[float, ...] = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
    # Networks webhooks may reach although not public (CIDR); for tests and a local stack only.
    webhook_allowed_networks: tuple[str, ...] = ()
    # A receiver's whole answer must come within this (connecting within 3 s of it).
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=30)
    # Endpoints sent to at once; each endpoint's deliveries go one at a time, in order.
    webhook_concurrency: int = Field(default=64, ge=1)

    def webhook_secret_box(self) -> SecretBox | None:
        """What seals and opens webhook signing secrets; None without a configured key."""
        if self.webhook_secret_key is None:
            return None
        return SecretBox(self.webhook_secret_key.get_secret_value(), "webhook-signing-secret")
