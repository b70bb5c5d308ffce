"""QA settings, from COHORT_QA_* (and the platform-wide COHORT_* names)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from cohort_qa.domain.checks import DEFAULT_LIMITS, CheckLimits
from cohort_runtime import ServiceSettings

_MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


class QASettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="COHORT_QA_", frozen=True, extra="ignore", populate_by_name=True)

    service_name: str = "qa"
    db_schema: str = "qa"
    migrations_dir: Path = _MIGRATIONS
    grpc_port: int = 15053
    metrics_port: int = 9103

    # Automatic checks (see cohort_qa.domain.checks for what each means; defaults live there).
    min_sft_chars: int = DEFAULT_LIMITS.min_sft_chars
    near_duplicate_similarity: float = DEFAULT_LIMITS.near_duplicate_similarity
    max_typing_chars_per_second: float = DEFAULT_LIMITS.max_typing_chars_per_second
    max_reading_chars_per_second: float = DEFAULT_LIMITS.max_reading_chars_per_second
    min_seconds: float = DEFAULT_LIMITS.min_seconds
    # How often the per-project reliability models are refitted when they have new judgments.
    refit_seconds: float = 10.0

    def check_limits(self) -> CheckLimits:
        return replace(
            DEFAULT_LIMITS,
            min_sft_chars=self.min_sft_chars,
            near_duplicate_similarity=self.near_duplicate_similarity,
            max_typing_chars_per_second=self.max_typing_chars_per_second,
            max_reading_chars_per_second=self.max_reading_chars_per_second,
            min_seconds=self.min_seconds,
        )
