"""Turning a task's accepted judgments into one deliverable item, or asking for more.

- Preferences: the top choice by a reliability-weighted (Dawid-Skene) posterior over the
  candidates in the order they were shown, each expert's confusion matrix taken from the project's
  last fit or, before one exists, built from their quality estimate; the rest of the ranking by a
  reliability-weighted Borda count. Confidence is the top choice's posterior.
- Rubric grades: the per-criterion median (robust to one wild grader), agreement per criterion
  from the mean absolute deviation around it.
- SFT, trajectories, adversarial prompts: the best-reviewed submission; unreviewed ones rank
  after reviewed ones, by their expert's quality.
Low confidence or low agreement asks for one more judgment while the task is below the project's
maximum overlap; at the maximum the item is finalized with the figures it has.
"""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from cohort_qa.domain import dawid_skene
from cohort_qa.domain.agreement import observed_agreement
from cohort_qa.domain.projects import DataKind, QaProject
from cohort_qa.domain.work import Answer

# The defaults of a project's thresholds (ProjectSpec.consensus sets its own).
MIN_CONFIDENCE = 0.8
MIN_RUBRIC_AGREEMENT = 0.6
RUBRIC_TOLERANCE = 0.25
"""Share of a criterion's scale within which a grade agrees with the median."""


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


@dataclass(frozen=True)
class Judgment:
    submission_id: uuid.UUID
    expert_id: str
    answer: Answer
    reliability: float
    """The expert's quality mean in the project's domain (0..1)."""
    review_score: float | None = None
    """The normalized weighted total of its review, if it had one."""
    confusion: np.ndarray | None = None
    """The expert's confusion matrix from the project's last fit, when it has one of this size."""
    suspended: bool = False
    """The expert is suspended in the project or its domain (position bias, collusion, quality):
    until an operator clears them their answer weighs nothing, though it stays on the item."""


@dataclass(frozen=True)
class PreferenceItem:
    ranking: tuple[str, ...]


@dataclass(frozen=True)
class RubricItem:
    scores: Mapping[str, float]
    overall: float


@dataclass(frozen=True)
class ChosenItem:
    submission_id: uuid.UUID


ItemResult = PreferenceItem | RubricItem | ChosenItem


@dataclass(frozen=True)
class Outcome:
    result: ItemResult
    agreement: float
    confidence: float
    agreed: Mapping[str, bool] = field(default_factory=dict)
    """Per expert, whether their judgment matched the aggregate (quality evidence); empty for free text."""
    needs_more: bool = False


def aggregate(
    project: QaProject,
    judgments: list[Judgment],
    *,
    candidate_ids: tuple[str, ...] = (),
    acceptance_rate: float = 1.0,
    priors: np.ndarray | None = None,
    no_more: bool = False,
) -> Outcome:
    """`no_more`: the task can get no further judgment (its slots are used up), so never ask."""
    if not judgments:
        raise ValueError("no judgments to aggregate")
    at_max = no_more or len(judgments) >= max(project.max_overlap, project.overlap)
    if project.kind is DataKind.PREFERENCE:
        outcome = _preference(judgments, candidate_ids, priors)
        low = outcome.confidence < _or(project.min_confidence, MIN_CONFIDENCE)
    elif project.kind is DataKind.RUBRIC_GRADE:
        outcome = _rubric(project, judgments)
        low = outcome.agreement < _or(project.min_rubric_agreement, MIN_RUBRIC_AGREEMENT)
    else:
        outcome = _best_reviewed(judgments, acceptance_rate)
        low = False
    if low and not at_max:
        return Outcome(outcome.result, outcome.agreement, outcome.confidence, outcome.agreed, needs_more=True)
    return outcome


def _preference(judgments: list[Judgment], candidate_ids: tuple[str, ...], priors: np.ndarray | None) -> Outcome:
    classes = list(candidate_ids) or sorted({c for j in judgments for c in j.answer.ranking})
    index = {c: i for i, c in enumerate(classes)}
    k = len(classes)
    usable = [j for j in judgments if j.answer.ranking and j.answer.ranking[0] in index]
    labels = np.array([index[j.answer.ranking[0]] for j in usable], dtype=np.int64)
    weight = [0.0 if j.suspended else j.reliability for j in usable]
    one_coin = dawid_skene.one_coin(np.array([j.reliability for j in usable]), k)
    fitted = [
        j.confusion if j.confusion is not None and j.confusion.shape == (k, k) else one_coin[n]
        for n, j in enumerate(usable)
    ]
    chance = np.full((k, k), 1.0 / k)  # a suspended expert's answer says nothing of the truth
    confusion = np.stack([chance if j.suspended else fitted[n] for n, j in enumerate(usable)])
    class_priors = priors if priors is not None and priors.shape == (k,) else np.full(k, 1.0 / k)
    posterior = dawid_skene.e_step(
        np.zeros(len(usable), dtype=np.int64), np.arange(len(usable)), labels, 1, class_priors, confusion
    )[0]
    top = int(np.argmax(posterior))
    borda = np.zeros(k)
    for n, j in enumerate(usable):
        for position, candidate in enumerate(j.answer.ranking):
            if candidate in index:
                borda[index[candidate]] += weight[n] * (k - 1 - position)
    rest = sorted((i for i in range(k) if i != top), key=lambda i: (-borda[i], i))
    ranking = tuple(classes[i] for i in [top, *rest])
    agreed = {j.expert_id: int(labels[n]) == top for n, j in enumerate(usable)}
    return Outcome(
        PreferenceItem(ranking),
        agreement=observed_agreement(list(labels)),
        confidence=float(posterior[top]),
        agreed=agreed,
    )


def _rubric(project: QaProject, judgments: list[Judgment]) -> Outcome:
    scores: dict[str, float] = {}
    agreements: list[float] = []
    within: dict[str, bool] = {j.expert_id: True for j in judgments}
    # Suspended experts' grades count only where nobody else graded.
    counted = [j for j in judgments if not j.suspended] or judgments
    for criterion in project.criteria:
        given = [(j.expert_id, j.answer.scores[criterion.name]) for j in counted if criterion.name in j.answer.scores]
        if not given:
            continue
        median = float(statistics.median(v for _, v in given))
        scores[criterion.name] = median
        mad = statistics.fmean(abs(v - median) for _, v in given)
        agreements.append(max(0.0, 1.0 - mad / (criterion.span / 2)))
        for expert_id, value in given:
            if abs(value - median) > _or(project.rubric_tolerance, RUBRIC_TOLERANCE) * criterion.span:
                within[expert_id] = False
    overall = sum(scores.get(c.name, 0.0) * c.weight for c in project.criteria)
    agreement = statistics.fmean(agreements) if agreements else 1.0
    confidence = sum(within.values()) / len(within)
    return Outcome(RubricItem(scores, overall), agreement=agreement, confidence=confidence, agreed=within)


def _best_reviewed(judgments: list[Judgment], acceptance_rate: float) -> Outcome:
    def rank(j: Judgment) -> tuple[bool, bool, float, float]:
        return (not j.suspended, j.review_score is not None, j.review_score or 0.0, j.reliability)

    best = max(judgments, key=rank)
    confidence = best.review_score if best.review_score is not None else best.reliability
    return Outcome(ChosenItem(best.submission_id), agreement=acceptance_rate, confidence=confidence)
