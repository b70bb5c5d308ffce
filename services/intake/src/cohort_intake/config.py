"""Intake settings, from COHORT_INTAKE_* (and the platform-wide COHORT_* names)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
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
