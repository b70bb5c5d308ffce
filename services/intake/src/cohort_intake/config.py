"""Intake settings, from COHORT_INTAKE_* (and the platform-wide COHORT_* names)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from cohort_runtime import ServiceSettings

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
