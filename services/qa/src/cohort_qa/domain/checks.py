"""Automatic checks of one submission. Each finding has a reason code; a hard finding rejects the
submission, a soft one sends it to review.

Reason codes: empty, too_short, copied_prompt, copied_candidate, near_duplicate, too_fast,
rubric_incomplete, score_out_of_range, ranking_incomplete, intransitive_ranking, position_bias.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from scipy.stats import binomtest

from cohort_qa.domain.projects import DataKind, QaProject
from cohort_qa.domain.similarity import jaccard, normalize, shingles
from cohort_qa.domain.work import Answer, TaskView


@dataclass(frozen=True)
class Finding:
    code: str
    hard: bool
    detail: str = ""


@dataclass(frozen=True)
class CheckLimits:
    # Shortest acceptable free text per kind, in characters (whitespace trimmed).
    min_sft_chars: int = 20
    min_adversarial_chars: int = 20
    # Jaccard of word 3-shingles at which a text counts as a copy of the prompt or a candidate.
    copy_similarity: float = 0.9
    # ... and as a near-duplicate of an earlier submission in the project (MinHash estimate).
    near_duplicate_similarity: float = 0.8
    # Texts shorter than this are too short for near-duplicate detection to mean anything.
    near_duplicate_min_chars: int = 80
    # Faster than this is implausible: typing (chars written) and reading (chars shown) speeds.
    max_typing_chars_per_second: float = 15.0
    max_reading_chars_per_second: float = 150.0
    min_seconds: float = 3.0
    # Position bias: flagged once an expert's first-shown choices are this improbable under chance.
    position_bias_min_judgments: int = 20
    position_bias_p_value: float = 0.001
    # ... and suspended in the project at this p-value: beyond reasonable doubt, because each
    # assignment shows the candidates in its own uniformly random order, so chance alone gives any
    # honest expert first-shown choices distributed exactly Binomial(n, 1/candidates), whatever their
    # skill or taste (20 of 20 with two candidates: p = 9.5e-7). tests/unit/test_checks.py computes
    # the chance an honest expert is ever suspended within 1,000 judgments: 2.7e-5.
    position_bias_suspend_p_value: float = 1e-6


DEFAULT_LIMITS = CheckLimits()


def content_findings(
    answer: Answer, task: TaskView | None, project: QaProject, limits: CheckLimits = DEFAULT_LIMITS
) -> list[Finding]:
    """Everything decidable from the submission and its task alone."""
    kind = answer.kind
    if kind is DataKind.PREFERENCE:
        return _ranking_findings(answer, task) + _score_findings(answer, project, required=False)
    if kind is DataKind.RUBRIC_GRADE:
        return _score_findings(answer, project, required=True)
    findings = _length_findings(answer, limits)
    if findings:
        return findings
    return _copy_findings(answer.text, task, limits)


def pace_finding(
    answer: Answer, task: TaskView | None, active_seconds: int, limits: CheckLimits = DEFAULT_LIMITS
) -> Finding | None:
    """Implausibly fast work for its length: less time than typing the answer and reading the task."""
    written = len(answer.text.strip())
    shown = task.reading_chars if task else 0
    needed = (
        limits.min_seconds + written / limits.max_typing_chars_per_second + shown / limits.max_reading_chars_per_second
    )
    # Tasking counts whole seconds: the work took less than active_seconds + 1, not less than it.
    if active_seconds + 1 < needed:
        return Finding("too_fast", hard=True, detail=f"{active_seconds}s for work needing at least {needed:.0f}s")
    return None


def position_bias_finding(
    first_choices: int, judgments: int, candidates: int, limits: CheckLimits = DEFAULT_LIMITS
) -> Finding | None:
    """An expert who picks the first-shown candidate far more often than chance (1/candidates).
    Soft: the expert's work goes to review, where a human decides."""
    if judgments < limits.position_bias_min_judgments or candidates < 2:
        return None
    pvalue = _first_choice_p_value(first_choices, judgments, candidates)
    if pvalue < limits.position_bias_p_value:
        return Finding(
            "position_bias",
            hard=False,
            detail=f"chose the first shown in {first_choices} of {judgments} (p={pvalue:.1e})",
        )
    return None


def position_bias_beyond_doubt(
    first_choices: int, judgments: int, candidates: int, limits: CheckLimits = DEFAULT_LIMITS
) -> bool:
    """Whether the first-shown choices are so improbable under chance that the expert is suspended
    in the project until an operator looks, rather than only having their work reviewed."""
    if judgments < limits.position_bias_min_judgments or candidates < 2:
        return False
    return _first_choice_p_value(first_choices, judgments, candidates) < limits.position_bias_suspend_p_value


@functools.lru_cache(maxsize=65536)
def _first_choice_p_value(first_choices: int, judgments: int, candidates: int) -> float:
    # The same few (k, n) pairs recur for every expert; scipy's test costs ~0.2 ms a call.
    return float(binomtest(first_choices, judgments, 1.0 / candidates, alternative="greater").pvalue)


def _length_findings(answer: Answer, limits: CheckLimits) -> list[Finding]:
    if not answer.text.strip() or any(not v.strip() for v in answer.parts.values()):
        missing = sorted(k for k, v in answer.parts.items() if not v.strip())
        return [Finding("empty", hard=True, detail=", ".join(missing))]
    if answer.kind is DataKind.TRAJECTORY and answer.steps == 0:
        return [Finding("empty", hard=True, detail="no steps")]
    minimum = {DataKind.SFT: limits.min_sft_chars, DataKind.ADVERSARIAL: limits.min_adversarial_chars}.get(
        answer.kind, 1
    )
    main = answer.parts.get("main", answer.text)
    if len(main.strip()) < minimum:
        return [Finding("too_short", hard=True, detail=f"{len(main.strip())} < {minimum} characters")]
    return []


def _copy_findings(text: str, task: TaskView | None, limits: CheckLimits) -> list[Finding]:
    if task is None:
        return []
    mine = shingles(text)
    words = normalize(text)
    if task.prompt and (
        words == normalize(task.prompt) or jaccard(mine, shingles(task.prompt)) >= limits.copy_similarity
    ):
        return [Finding("copied_prompt", hard=True)]
    for candidate_id, content in task.candidates:
        if words == normalize(content) or jaccard(mine, shingles(content)) >= limits.copy_similarity:
            return [Finding("copied_candidate", hard=True, detail=candidate_id)]
    return []


def _ranking_findings(answer: Answer, task: TaskView | None) -> list[Finding]:
    ranking = answer.ranking
    if not ranking:
        return [Finding("empty", hard=True, detail="no ranking")]
    if len(set(ranking)) != len(ranking):
        # A listed ranking that names a candidate twice (a > b > a) cannot be a strict order.
        return [Finding("intransitive_ranking", hard=True, detail=" > ".join(ranking))]
    if task is not None and task.candidates and set(ranking) != set(task.candidate_ids):
        return [
            Finding(
                "ranking_incomplete",
                hard=True,
                detail=f"ranked {sorted(ranking)}, shown {sorted(task.candidate_ids)}",
            )
        ]
    return []


def _score_findings(answer: Answer, project: QaProject, *, required: bool) -> list[Finding]:
    findings: list[Finding] = []
    if required:
        missing = [c.name for c in project.criteria if c.name not in answer.scores]
        if missing:
            findings.append(Finding("rubric_incomplete", hard=True, detail=", ".join(missing)))
    for name, score in answer.scores.items():
        criterion = project.criterion(name)
        if criterion is None or not criterion.scale_min <= score <= criterion.scale_max:
            findings.append(Finding("score_out_of_range", hard=True, detail=f"{name}={score}"))
    return findings
