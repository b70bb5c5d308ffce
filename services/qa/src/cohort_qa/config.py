"""QA settings, from COHORT_QA_* (and the platform-wide COHORT_* names)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from cohort_runtime import ServiceSettings

_MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


class QASettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="COHORT_QA_", frozen=True, extra="ignore", populate_by_name=True)

    service_name: str = "qa"
    db_schema: str = "qa"
    migrations_dir: Path = _MIGRATIONS
    grpc_port: int = 50053
    metrics_port: int = 9103

    # Automatic checks (see cohort_qa.domain.checks for what each means).
    min_sft_chars: int = 20
    near_duplicate_similarity: float = 0.8
    max_typing_chars_per_second: float = 15.0
    max_reading_chars_per_second: float = 150.0
    min_seconds: float = 3.0
    # How often the per-project reliability models are refitted when they have new judgments.
    refit_seconds: float = 10.0
