"""Deciding an expert's screening test from their scored answers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from cohort_qa.domain import gold
from cohort_qa.domain.gold import GoldReference
from cohort_qa.domain.projects import QaProject
from cohort_qa.domain.work import Answer


@dataclass(frozen=True)
class ScreeningResult:
    project_id: uuid.UUID
    expert_id: str
    passed: bool
    correct: int
    answered: int


def is_right(answer: Answer | None, reference: GoldReference, project: QaProject) -> bool:
    """A screening answer counts only when it matches the gold reference. Screening exists only for
    kinds scored without a reviewer (intake enforces it), so an answer gold cannot score is wrong."""
    return answer is not None and gold.score(answer, reference, project) is gold.GoldOutcome.CORRECT


def decide(project: QaProject, expert_id: str, correct: int, answered: int) -> ScreeningResult | None:
    """The decision once the expert has answered the test's number of tasks; None before."""
    if project.screening_tasks <= 0 or answered < project.screening_tasks:
        return None
    # A tolerance so that e.g. 4 of 5 passes a 0.8 share despite binary floating point.
    passed = correct >= project.screening_pass_share * answered - 1e-9
    return ScreeningResult(project.project_id, expert_id, passed, correct, answered)
