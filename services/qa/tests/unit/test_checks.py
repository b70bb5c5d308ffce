"""Every automatic check: what trips it, and what passes."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from cohort_qa.domain import checks, similarity
from cohort_qa.domain.checks import CheckLimits
from cohort_qa.domain.projects import Criterion, DataKind, QaProject
from cohort_qa.domain.work import Answer, TaskView

TASK = TaskView(
    prompt="Explain why the sky appears blue during the day but red at sunset.",
    candidates=(
        ("a", "Rayleigh scattering favours short wavelengths, so blue light is scattered across the sky."),
        ("b", "Because the ocean reflects onto the sky."),
    ),
)
GOOD = (
    "Sunlight is scattered by air molecules, and shorter wavelengths scatter much more strongly "
    "(Rayleigh scattering, roughly 1/wavelength^4). At sunset light crosses far more air, so the blue is "
    "scattered out before it reaches us and the remaining light looks red and orange."
)


def project(kind: DataKind = DataKind.SFT) -> QaProject:
    return QaProject(
        project_id=uuid.uuid4(),
        lab_id=uuid.uuid4(),
        kind=kind,
        domain="physics",
        overlap=1,
        max_overlap=3,
        review_sample_rate=0.1,
        minimum_quality=0.7,
        criteria=(Criterion("accuracy", 0.6, 1, 5), Criterion("clarity", 0.4, 1, 5)),
    )


def codes(findings: list[checks.Finding]) -> list[str]:
    return [f.code for f in findings]


def test_a_good_answer_has_no_findings() -> None:
    assert checks.content_findings(Answer(DataKind.SFT, GOOD, parts={"main": GOOD}), TASK, project()) == []


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "empty"), ("   \n", "empty"), ("Rayleigh.", "too_short")],
)
def test_empty_and_too_short_are_hard(text: str, code: str) -> None:
    findings = checks.content_findings(Answer(DataKind.SFT, text, parts={"main": text}), TASK, project())
    assert codes(findings) == [code] and findings[0].hard


def test_copy_of_the_prompt_or_a_candidate_is_hard() -> None:
    prompt_copy = TASK.prompt.upper() + "  "
    assert codes(
        checks.content_findings(Answer(DataKind.SFT, prompt_copy, parts={"main": prompt_copy}), TASK, project())
    ) == ["copied_prompt"]
    candidate = TASK.candidates[0][1]
    found = checks.content_findings(Answer(DataKind.SFT, candidate, parts={"main": candidate}), TASK, project())
    assert codes(found) == ["copied_candidate"] and found[0].detail == "a"


def test_trajectory_without_steps_or_final_answer_is_empty() -> None:
    no_steps = Answer(DataKind.TRAJECTORY, "final", steps=0, parts={"final_answer": "final"})
    no_final = Answer(DataKind.TRAJECTORY, "step one", steps=1, parts={"final_answer": ""})
    assert codes(checks.content_findings(no_steps, TASK, project(DataKind.TRAJECTORY))) == ["empty"]
    assert codes(checks.content_findings(no_final, TASK, project(DataKind.TRAJECTORY))) == ["empty"]


def test_too_fast_for_its_length() -> None:
    answer = Answer(DataKind.SFT, GOOD, parts={"main": GOOD})
    needed = 3 + len(GOOD) / 15 + TASK.reading_chars / 150
    assert checks.pace_finding(answer, TASK, int(needed) - 2).code == "too_fast"
    assert checks.pace_finding(answer, TASK, int(needed)) is None


def test_rubric_grades_need_every_criterion_within_its_scale() -> None:
    p = project(DataKind.RUBRIC_GRADE)
    assert checks.content_findings(Answer(DataKind.RUBRIC_GRADE, scores={"accuracy": 4, "clarity": 5}), None, p) == []
    assert codes(checks.content_findings(Answer(DataKind.RUBRIC_GRADE, scores={"accuracy": 4}), None, p)) == [
        "rubric_incomplete"
    ]
    assert codes(
        checks.content_findings(Answer(DataKind.RUBRIC_GRADE, scores={"accuracy": 9, "clarity": 3}), None, p)
    ) == ["score_out_of_range"]


def test_rankings_must_order_exactly_the_candidates_shown() -> None:
    p = project(DataKind.PREFERENCE)
    assert checks.content_findings(Answer(DataKind.PREFERENCE, ranking=("b", "a")), TASK, p) == []
    assert codes(checks.content_findings(Answer(DataKind.PREFERENCE, ranking=("a", "b", "a")), TASK, p)) == [
        "intransitive_ranking"
    ]
    assert codes(checks.content_findings(Answer(DataKind.PREFERENCE, ranking=("a", "z")), TASK, p)) == [
        "ranking_incomplete"
    ]
    assert codes(checks.content_findings(Answer(DataKind.PREFERENCE, ranking=()), TASK, p)) == ["empty"]


def test_position_bias_needs_enough_judgments_and_an_improbable_share() -> None:
    limits = CheckLimits()
    assert checks.position_bias_finding(19, 19, 2, limits) is None  # too few to say
    assert checks.position_bias_finding(14, 25, 2, limits) is None  # plausible under chance
    found = checks.position_bias_finding(24, 25, 2, limits)
    assert found is not None and found.code == "position_bias" and not found.hard


def test_position_bias_suspends_only_beyond_doubt() -> None:
    limits = CheckLimits()
    assert checks.position_bias_beyond_doubt(20, 20, 2, limits)  # p = 9.5e-7
    assert not checks.position_bias_beyond_doubt(19, 19, 2, limits)  # too few to judge at all
    assert checks.position_bias_beyond_doubt(28, 30, 2, limits)
    assert not checks.position_bias_beyond_doubt(27, 30, 2, limits)  # p = 4.3e-6
    assert not checks.position_bias_beyond_doubt(20, 30, 2, limits)
    assert checks.position_bias_beyond_doubt(18, 20, 3, limits)  # a third of 20 expected (p = 2.3e-7)
    assert not checks.position_bias_beyond_doubt(17, 20, 3, limits)  # p = 2.8e-6


@pytest.mark.parametrize("candidates", [2, 3])
def test_an_honest_expert_is_almost_never_suspended_for_position_bias(candidates: int) -> None:
    """The exact chance that an expert whose choices do not depend on the shown order is ever
    suspended, checked after each of 1,000 judgments: with every assignment's order uniformly
    random, their first-shown choices are a Binomial(n, 1/candidates) walk, followed here state by
    state (the distribution of first choices among those not yet suspended)."""
    limits = CheckLimits()
    p = 1.0 / candidates
    alive = np.array([1.0])  # alive[k]: P(k first choices so far and never suspended)
    suspended = 0.0
    for n in range(1, 1001):
        step = np.zeros(n + 1)
        step[:-1] += alive * (1 - p)
        step[1:] += alive * p
        # The fewest first choices suspended at n (more are more improbable): a bisection.
        low, high = 0, n + 1
        while low < high:
            mid = (low + high) // 2
            if checks.position_bias_beyond_doubt(mid, n, candidates, limits):
                high = mid
            else:
                low = mid + 1
        suspended += step[low:].sum()
        step[low:] = 0.0
        alive = step
    # 2.7e-5 with two candidates, 2.5e-5 with three: about one honest expert in 40,000.
    assert 0 < suspended < 5e-5, suspended


def test_near_duplicates_share_bands_and_estimates_track_jaccard() -> None:
    edited = GOOD.replace("orange", "golden")
    other = "Photosynthesis converts light energy into chemical energy stored in glucose molecules inside plants."
    a, b, c = (similarity.signature(t) for t in (GOOD, edited, other))
    exact = similarity.jaccard(similarity.shingles(GOOD), similarity.shingles(edited))
    assert abs(similarity.estimated_jaccard(a, b) - exact) < 0.15
    assert set(similarity.band_keys(a)) & set(similarity.band_keys(b))
    assert not set(similarity.band_keys(a)) & set(similarity.band_keys(c))
    assert similarity.estimated_jaccard(a, c) < 0.2
    assert (similarity.from_bytes(similarity.to_bytes(a)) == a).all()
