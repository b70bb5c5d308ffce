"""Cohorts: named groups of experts that a project can require (qualifications.cohort_ids)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cohort_runtime.domain_errors import InvalidInput, Violation
from cohort_tasking.domain.experts import COHORT_ID

MAX_NAME_CHARS = 100
MAX_DESCRIPTION_CHARS = 1000
MAX_MEMBERS_PER_CALL = 1000


@dataclass(frozen=True)
class Cohort:
    cohort_id: str
    display_name: str
    description: str
    create_time: dt.datetime

    def same_definition(self, other: Cohort) -> bool:
        return (self.display_name, self.description) == (other.display_name, other.description)


def cohort_id_violations(cohort_id: str, field: str = "cohort_id") -> list[Violation]:
    if COHORT_ID.match(cohort_id):
        return []
    return [Violation(field, "must be 1..64 of letters, digits, '_', '.', ':', '-'")]


def validate(cohort: Cohort) -> None:
    violations = cohort_id_violations(cohort.cohort_id, "cohort.cohort_id")
    if not cohort.display_name.strip() or len(cohort.display_name) > MAX_NAME_CHARS:
        violations.append(Violation("cohort.display_name", f"must be 1..{MAX_NAME_CHARS} characters, not blank"))
    if len(cohort.description) > MAX_DESCRIPTION_CHARS:
        violations.append(Violation("cohort.description", f"must be at most {MAX_DESCRIPTION_CHARS} characters"))
    if violations:
        raise InvalidInput(violations)


def validate_members(cohort_id: str, expert_ids: list[str]) -> None:
    violations = cohort_id_violations(cohort_id)
    if not 1 <= len(expert_ids) <= MAX_MEMBERS_PER_CALL:
        violations.append(Violation("expert_ids", f"must name 1..{MAX_MEMBERS_PER_CALL} experts"))
    if violations:
        raise InvalidInput(violations)
