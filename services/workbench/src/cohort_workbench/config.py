"""Workbench settings, from COHORT_WORKBENCH_* (and the platform-wide COHORT_* names)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from cohort_runtime import ServiceSettings

_MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


class WorkbenchSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="COHORT_WORKBENCH_", frozen=True, extra="ignore", populate_by_name=True
    )

    service_name: str = "workbench"
    db_schema: str = "workbench"
    migrations_dir: Path = _MIGRATIONS
    # The gRPC port serves the operator API (invitations) and health; the web pages are on http_port.
    grpc_port: int = 15055
    metrics_port: int = 9105
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8088, ge=0, le=65535)
    # Where experts reach the workbench: invitation links start with it.
    public_url: str = Field(default="http://127.0.0.1:8088", pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    # Cookies carry Secure (and the __Host- prefix) unless this is turned off for plain-HTTP local use.
    secure_cookies: bool = True
    # The services the workbench calls on the expert's behalf.
    tasking_address: str = "127.0.0.1:15052"
    qa_address: str = "127.0.0.1:15053"
    payout_address: str = "127.0.0.1:15054"
    # The platform's Ed25519 signing key (PEM), mounted into this service only: it mints the
    # short-lived expert tokens the backends verify. Given inline or as a file.
    token_private_key: SecretStr | None = None
    token_private_key_file: Path | None = Field(default=None, validation_alias="COHORT_TOKEN_PRIVATE_KEY_FILE")
    expert_token_minutes: int = Field(default=15, ge=2, le=60)
    session_idle_minutes: int = Field(default=60, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    invitation_hours: int = Field(default=72, ge=1)
    # Sign-in throttling: this many failures within the window lock the account (or the client
    # address, with its own higher limit) for the lockout.
    sign_in_account_limit: int = Field(default=5, ge=1)
    sign_in_address_limit: int = Field(default=30, ge=1)
    sign_in_window_minutes: int = Field(default=15, ge=1)
    sign_in_lockout_minutes: int = Field(default=15, ge=1)

    def signing_key_pem(self) -> str | None:
        if self.token_private_key is not None:
            return self.token_private_key.get_secret_value()
        if self.token_private_key_file is not None:
            return self.token_private_key_file.read_text()
        return None
