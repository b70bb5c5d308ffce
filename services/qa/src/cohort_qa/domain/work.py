"""A submission as QA reasons about it, independent of the wire format."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from cohort_qa.domain.projects import DataKind
from cohort_qa.domain.states import SubmissionState


@dataclass(frozen=True)
class Answer:
    """What the expert handed in, reduced to what the checks and aggregation read.

    `text` is the free text the expert wrote (response, final answer and steps, adversarial prompt
    and failure, or a preference's rationale); `ranking` is a preference's order, best first;
    `scores` a rubric grade's (or a preference's) per-criterion scores."""

    kind: DataKind
    text: str = ""
    ranking: tuple[str, ...] = ()
    scores: Mapping[str, int] = field(default_factory=dict)
    steps: int = 0
    parts: Mapping[str, str] = field(default_factory=dict)
    """Named text fields that must each be present for the kind (e.g. 'final_answer')."""


@dataclass(frozen=True)
class TaskView:
    """What the expert saw: the prompt (or the flattened conversation) and the candidates."""

    prompt: str
    candidates: tuple[tuple[str, str], ...] = ()

    @property
    def candidate_ids(self) -> tuple[str, ...]:
        return tuple(cid for cid, _ in self.candidates)

    @property
    def reading_chars(self) -> int:
        return len(self.prompt) + sum(len(content) for _, content in self.candidates)


@dataclass(frozen=True)
class Submission:
    submission_id: uuid.UUID
    project_id: uuid.UUID
    task_id: str
    expert_id: str
    answer: Answer
    is_gold: bool
    active_seconds: int
    submit_time: dt.datetime


@dataclass(frozen=True)
class NewSubmission:
    """A submission as it arrives from tasking, before QA has looked at it."""

    submission_id: uuid.UUID
    project_id: uuid.UUID
    task_id: str
    expert_id: str
    payload: bytes
    is_gold: bool
    active_seconds: int
    submit_time: dt.datetime
    is_screening: bool = False
    shown_order: tuple[str, ...] = ()
    """The candidates' ids in the order the expert saw them (none for inputs without candidates)."""
    revision: int = 1
    """The task's revision the answer is for (2 and up: rework after an upheld dispute)."""


@dataclass(frozen=True)
class Decision:
    """What QA decided about one submission, as stored with it."""

    submission_id: uuid.UUID
    state: SubmissionState
    reasons: tuple[str, ...] = ()
    gold_outcome: str | None = None
    top_choice: str | None = None
    scores: Mapping[str, int] | None = None
    signature: bytes | None = None


@dataclass(frozen=True)
class TaskSubmission:
    """One submission to a task as progress reads it: its state and, once a reviewer scored it,
    the deciding review's weighted total."""

    submission_id: uuid.UUID
    expert_id: str
    payload: bytes
    state: SubmissionState
    review_total: float | None


def first_shown(sub: NewSubmission, view: TaskView) -> str:
    """The candidate the expert saw first: by the order tasking gave their assignment, or (for a
    submission from before tasking gave orders) the input's own order."""
    return sub.shown_order[0] if sub.shown_order else view.candidate_ids[0]
