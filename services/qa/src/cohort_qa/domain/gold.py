"""Scoring a gold submission against its known answer."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from cohort_qa.domain.projects import DataKind, QaProject
from cohort_qa.domain.work import Answer


@dataclass(frozen=True)
class GoldReference:
    text: str = ""
    ranking: tuple[str, ...] = ()
    scores: Mapping[str, int] = field(default_factory=dict)


class GoldOutcome(enum.Enum):
    CORRECT = "correct"
    INCORRECT = "incorrect"
    NEEDS_REVIEW = "needs_review"
    """Free-text gold (or a reference that says nothing about this kind): a reviewer compares."""


# A rubric score within this share of the criterion's scale of the reference counts as matching
# (one point on a 1-5 scale, two on 0-10).
RUBRIC_TOLERANCE = 0.25


def score(answer: Answer, reference: GoldReference, project: QaProject) -> GoldOutcome:
    if answer.kind is DataKind.PREFERENCE and reference.ranking:
        # A categorical choice: the expert's first choice must be the reference's.
        return GoldOutcome.CORRECT if answer.ranking[:1] == reference.ranking[:1] else GoldOutcome.INCORRECT
    if answer.kind is DataKind.RUBRIC_GRADE and reference.scores:
        for name, expected in reference.scores.items():
            criterion = project.criterion(name)
            span = criterion.span if criterion else 4
            given = answer.scores.get(name)
            if given is None or abs(given - expected) > RUBRIC_TOLERANCE * span:
                return GoldOutcome.INCORRECT
        return GoldOutcome.CORRECT
    return GoldOutcome.NEEDS_REVIEW
