"""QA's verdict rule: from what the checks found, what gold says and the review draw, the state a
submission takes, why, and what it tells about its expert's quality."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from cohort_qa.domain import quality, sampling
from cohort_qa.domain.checks import Finding
from cohort_qa.domain.gold import GoldOutcome
from cohort_qa.domain.quality import Evidence
from cohort_qa.domain.states import SubmissionState


@dataclass(frozen=True)
class GoldCheck:
    """A gold task's answer against its reference: `outcome` None when there is no reference
    or it cannot be scored without a person (free text)."""

    has_reference: bool
    outcome: GoldOutcome | None


@dataclass(frozen=True)
class Case:
    submission_id: uuid.UUID
    findings: Sequence[Finding]
    answered: bool
    """A payload of the project's kind came with it."""
    gold: GoldCheck | None
    """None for an ordinary task."""
    review_probability: float


@dataclass(frozen=True)
class Verdict:
    state: SubmissionState
    reasons: tuple[str, ...]
    gold_outcome: str | None = None
    """'correct' or 'incorrect' when gold decided it."""
    evidence: Evidence | None = None
    """What this decision tells about the expert's quality, if anything."""


def decide(case: Case) -> Verdict:
    """Hard findings (or no usable answer) reject; gold decides a gold task (a reviewer when it
    cannot); soft findings send to review; otherwise the submission is accepted unless drawn for
    review (the draw is fixed by its id, so a retried handler decides the same)."""
    hard = tuple(f.code for f in case.findings if f.hard)
    soft = tuple(f.code for f in case.findings if not f.hard)
    if hard or not case.answered:
        return Verdict(SubmissionState.REJECTED, hard or soft, evidence=quality.failed_checks())
    if case.gold is not None:
        return _by_gold(case.gold, soft)
    if soft:
        return Verdict(SubmissionState.IN_REVIEW, soft)
    if sampling.sampled(case.submission_id, case.review_probability):
        return Verdict(SubmissionState.IN_REVIEW, ("sampled",))
    return Verdict(SubmissionState.ACCEPTED, ())


def _by_gold(check: GoldCheck, soft: tuple[str, ...]) -> Verdict:
    if check.outcome is GoldOutcome.CORRECT:
        return Verdict(SubmissionState.ACCEPTED, soft, "correct", quality.gold(True))
    if check.outcome is GoldOutcome.INCORRECT:
        return Verdict(SubmissionState.REJECTED, ("gold_mismatch",), "incorrect", quality.gold(False))
    why = "gold_free_text" if check.has_reference else "gold_reference_missing"
    return Verdict(SubmissionState.IN_REVIEW, (why, *soft))
