"""When a task has enough judgments to be aggregated."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cohort_qa.domain.states import DECIDED, SubmissionState


@dataclass(frozen=True)
class Readiness:
    accepted: int
    decided: int
    exhausted: bool
    """No more judgments will come: the maximum overlap is accepted, or the slot ceiling decided."""

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.decided if self.decided else 1.0


CEILING_PER_MAXIMUM = 2


def slot_ceiling(max_overlap: int) -> int:
    """The most answers a task's revision can get: routing replaces a rejected answer beyond the
    maximum overlap (which counts answers that can stand), up to this many slots in all
    (cohort_tasking.domain.overlap: the two services must agree, or a task waits for an answer
    routing will never ask for)."""
    return CEILING_PER_MAXIMUM * max_overlap


def readiness(states: Sequence[SubmissionState], target_overlap: int, max_overlap: int) -> Readiness | None:
    """The task's standing when it is ready to aggregate, else None. Ready once it has its target
    of accepted judgments, or when at least one is accepted and no more can come: the maximum
    overlap's worth is accepted, or rejected answers have used up the slot ceiling."""
    accepted = sum(1 for s in states if s is SubmissionState.ACCEPTED)
    decided = sum(1 for s in states if s in DECIDED)
    exhausted = accepted >= max_overlap or decided >= slot_ceiling(max_overlap)
    if accepted and (accepted >= target_overlap or exhausted):
        return Readiness(accepted, decided, exhausted)
    return None
