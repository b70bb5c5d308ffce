"""Reviewers' rubric scores and who may review what."""

from __future__ import annotations

from collections.abc import Mapping

from cohort_qa.domain import reviewer_quality
from cohort_qa.domain.errors import InvalidReview, ReviewerNotQualified
from cohort_qa.domain.projects import QaProject
from cohort_qa.domain.quality import Estimate

REVIEWER_MIN_MEAN = 0.8
"""A reviewer whose estimate in the domain (with enough evidence) is below this gets no reviews."""
REVIEWER_MIN_EVIDENCE = 5


def weighted_total(project: QaProject, scores: Mapping[str, int]) -> float:
    """sum of score x weight over the rubric; every criterion scored, each within its scale."""
    problems: dict[str, str] = {}
    for criterion in project.criteria:
        if criterion.name not in scores:
            problems[f"scores[{criterion.name}]"] = "every rubric criterion needs a score"
        elif not criterion.scale_min <= scores[criterion.name] <= criterion.scale_max:
            problems[f"scores[{criterion.name}]"] = f"must be within {criterion.scale_min}..{criterion.scale_max}"
    for name in scores:
        if project.criterion(name) is None:
            problems[f"scores[{name}]"] = "not a criterion of the project's rubric"
    if problems:
        raise InvalidReview(problems)
    return sum(scores[c.name] * c.weight for c in project.criteria)


def normalized_total(project: QaProject, total: float) -> float:
    """The weighted total on 0..1 (its minimum and maximum under the rubric)."""
    low = sum(c.scale_min * c.weight for c in project.criteria)
    high = sum(c.scale_max * c.weight for c in project.criteria)
    return 0.5 if high <= low else (total - low) / (high - low)


def check_reviewer(as_expert: Estimate | None, as_reviewer: Estimate | None = None) -> None:
    """A reviewer must be a good expert in the domain and, once judged as a reviewer, not
    confidently wrong too often."""
    if as_expert is not None and as_expert.evidence >= REVIEWER_MIN_EVIDENCE and as_expert.mean < REVIEWER_MIN_MEAN:
        raise ReviewerNotQualified(as_expert.mean)
    if reviewer_quality.excluded(as_reviewer):
        assert as_reviewer is not None  # noqa: S101 - excluded() says so
        raise ReviewerNotQualified(as_reviewer.mean)
