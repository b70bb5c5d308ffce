"""Payout settings, from COHORT_PAYOUT_* (and the platform-wide COHORT_* names)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from cohort_runtime import ServiceSettings

_MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


class PayoutSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="COHORT_PAYOUT_", frozen=True, extra="ignore", populate_by_name=True)

    service_name: str = "payout"
    db_schema: str = "payout"
    migrations_dir: Path = _MIGRATIONS
    grpc_port: int = 15054
    metrics_port: int = 9104
    # Platform fee charged to the lab on top of each accepted earning, in basis points.
    platform_fee_bps: int = Field(default=2000, ge=0, le=10_000)
    # Fernet key (urlsafe base64 of 32 bytes) sealing payees' bank details at rest; without it
    # payees can be neither stored nor read (the rest of payout works).
    payee_key: SecretStr | None = None
    # The platform's own account, the debtor of payment files.
    debtor_name: str = ""
    debtor_iban: SecretStr | None = None
    debtor_bic: str = ""
    # Scheduled payout runs: every run_interval_hours (0 = only on request) for each currency in
    # run_currencies (comma-separated), paying balances of at least run_min_amount_minor.
    run_interval_hours: float = Field(default=0, ge=0)
    run_currencies: str = "EUR"
    run_min_amount_minor: int = Field(default=1000, ge=1)
