"""What QA knows about a project: the parts of its spec that decide how work is judged."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field

from cohort_qa.domain.reviewer_routing import ReviewRequirements


class DataKind(enum.Enum):
    SFT = "sft"
    PREFERENCE = "preference"
    TRAJECTORY = "trajectory"
    RUBRIC_GRADE = "rubric_grade"
    ADVERSARIAL = "adversarial"

    @property
    def categorical(self) -> bool:
        """Judgments aggregated by a reliability-weighted vote over classes."""
        return self is DataKind.PREFERENCE

    @property
    def free_text(self) -> bool:
        """Deliverables chosen, not averaged: the best-reviewed submission wins."""
        return self in (DataKind.SFT, DataKind.TRAJECTORY, DataKind.ADVERSARIAL)


@dataclass(frozen=True)
class Criterion:
    name: str
    weight: float
    scale_min: int
    scale_max: int

    @property
    def span(self) -> int:
        return max(self.scale_max - self.scale_min, 1)


@dataclass(frozen=True)
class QaProject:
    project_id: uuid.UUID
    lab_id: uuid.UUID
    kind: DataKind
    domain: str
    overlap: int
    max_overlap: int
    review_sample_rate: float
    minimum_quality: float
    criteria: tuple[Criterion, ...] = field(default_factory=tuple)
    rubric_version: int = 0
    instructions_version: int = 0
    # The screening test: answers each expert gives (0: no test) and the share that must be right.
    screening_tasks: int = 0
    screening_pass_share: float = 0.0
    # When to ask for one more judgment; None takes the platform's default (domain.consensus).
    min_confidence: float | None = None
    min_rubric_agreement: float | None = None
    rubric_tolerance: float | None = None
    # Qualifications, as they bind reviewers too (domain/reviewer_routing.py).
    min_degree: int = 0
    fields: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    def review_requirements(self) -> ReviewRequirements:
        return ReviewRequirements(self.lab_id, self.min_degree, self.fields, self.languages)

    def criterion(self, name: str) -> Criterion | None:
        return next((c for c in self.criteria if c.name == name), None)
