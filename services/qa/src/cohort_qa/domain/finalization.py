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
    """No more judgments will come: the maximum overlap is used up by decided submissions."""

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.decided if self.decided else 1.0


def readiness(states: Sequence[SubmissionState], target_overlap: int, max_overlap: int) -> Readiness | None:
    """The task's standing when it is ready to aggregate, else None. Ready once it has its target
    of accepted judgments, or when at least one is accepted and no more can come: rejected
    submissions use up slots too, and tasking never opens more than the maximum overlap."""
    accepted = sum(1 for s in states if s is SubmissionState.ACCEPTED)
    decided = sum(1 for s in states if s in DECIDED)
    exhausted = decided >= max_overlap
    if accepted and (accepted >= target_overlap or exhausted):
        return Readiness(accepted, decided, exhausted)
    return None
