"""Tasking settings, from COHORT_TASKING_* (and the platform-wide COHORT_* names)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from cohort_runtime import ServiceSettings

_MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


class TaskingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="COHORT_TASKING_", frozen=True, extra="ignore", populate_by_name=True)

    service_name: str = "tasking"
    db_schema: str = "tasking"
    migrations_dir: Path = _MIGRATIONS
    grpc_port: int = 15052
    metrics_port: int = 9102
    # How often expired leases are returned to the queue.
    sweep_seconds: float = Field(default=1.0, gt=0)
    # How long an expert's list of qualified projects is reused by acquisition (0: never). Changes
    # this replica hears of drop it at once; others' changes arrive within this time.
    eligibility_cache_seconds: float = Field(default=1.0, ge=0)
