"""The quality model, gold scoring, review sampling and item aggregation per data kind."""

from __future__ import annotations

import dataclasses
import uuid

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from cohort_qa.domain import consensus, gold, quality, reviews, sampling
from cohort_qa.domain.consensus import ChosenItem, Judgment, PreferenceItem, RubricItem
from cohort_qa.domain.errors import InvalidReview, ReviewerNotQualified
from cohort_qa.domain.gold import GoldOutcome, GoldReference
from cohort_qa.domain.projects import Criterion, DataKind, QaProject
from cohort_qa.domain.work import Answer


def project(kind: DataKind, overlap: int = 3, max_overlap: int = 5, minimum_quality: float = 0.7) -> QaProject:
    return QaProject(
        project_id=uuid.uuid4(),
        lab_id=uuid.uuid4(),
        kind=kind,
        domain="law",
        overlap=overlap,
        max_overlap=max_overlap,
        review_sample_rate=0.1,
        minimum_quality=minimum_quality,
        criteria=(Criterion("accuracy", 0.5, 1, 5), Criterion("style", 0.5, 1, 5)),
    )


@given(st.lists(st.tuples(st.floats(0, 1), st.booleans()), max_size=60))
def test_estimate_is_a_proper_interval_around_the_mean(pieces: list[tuple[float, bool]]) -> None:
    evidence = quality.Evidence()
    for share, accepted in pieces:
        evidence += quality.review(share, accepted)
    e = quality.estimate(evidence)
    assert 0 <= e.lower <= e.mean <= e.upper <= 1
    assert e.evidence == len(pieces)


def test_more_failures_lower_the_estimate_and_enough_of_them_suspend() -> None:
    good = quality.estimate(sum((quality.gold(True) for _ in range(20)), quality.Evidence()))
    bad = quality.estimate(sum((quality.gold(False) for _ in range(20)), quality.Evidence()))
    assert good.mean > 0.9 and bad.mean < 0.2
    assert quality.below(bad, 0.7) and not quality.below(good, 0.7)
    few = quality.estimate(sum((quality.gold(False) for _ in range(5)), quality.Evidence()))
    assert not quality.below(few, 0.7), "five answers are not enough evidence to suspend"
    assert not quality.below(bad, 0.0), "a project without a threshold suspends nobody"


def test_gold_scoring_exact_for_choices_tolerant_for_scores_review_for_text() -> None:
    pref = project(DataKind.PREFERENCE)
    ref = GoldReference(ranking=("b", "a"))
    assert gold.score(Answer(DataKind.PREFERENCE, ranking=("b", "a")), ref, pref) is GoldOutcome.CORRECT
    assert gold.score(Answer(DataKind.PREFERENCE, ranking=("a", "b")), ref, pref) is GoldOutcome.INCORRECT
    rubric = project(DataKind.RUBRIC_GRADE)
    ref = GoldReference(scores={"accuracy": 4, "style": 2})
    assert (
        gold.score(Answer(DataKind.RUBRIC_GRADE, scores={"accuracy": 5, "style": 2}), ref, rubric)
        is GoldOutcome.CORRECT
    )
    assert (
        gold.score(Answer(DataKind.RUBRIC_GRADE, scores={"accuracy": 2, "style": 2}), ref, rubric)
        is GoldOutcome.INCORRECT
    )
    sft = project(DataKind.SFT)
    assert gold.score(Answer(DataKind.SFT, "x"), GoldReference(text="y"), sft) is GoldOutcome.NEEDS_REVIEW


def test_review_sampling_rate_rises_for_new_and_doubtful_experts_and_is_stable() -> None:
    seasoned = quality.Estimate(0.95, 0.9, 0.98, 50)
    doubtful = quality.Estimate(0.72, 0.6, 0.8, 50)
    assert sampling.review_probability(0.1, seasoned, 0.7) == 0.1
    assert sampling.review_probability(0.1, None, 0.7) == 0.2
    assert sampling.review_probability(0.1, doubtful, 0.7) == 0.30000000000000004
    ids = [uuid.uuid4() for _ in range(20000)]
    share = sum(sampling.sampled(i, 0.1) for i in ids) / len(ids)
    assert 0.09 < share < 0.11
    assert all(sampling.sampled(i, 0.1) == sampling.sampled(i, 0.1) for i in ids[:100])


def test_weighted_total_and_reviewer_bar() -> None:
    p = project(DataKind.SFT)
    assert reviews.weighted_total(p, {"accuracy": 4, "style": 2}) == 3.0
    assert reviews.normalized_total(p, 3.0) == 0.5
    try:
        reviews.weighted_total(p, {"accuracy": 9, "tone": 1})
    except InvalidReview as exc:
        assert set(exc.problems) == {"scores[accuracy]", "scores[style]", "scores[tone]"}
    else:
        raise AssertionError("bad scores were accepted")
    reviews.check_reviewer(None)
    reviews.check_reviewer(quality.Estimate(0.5, 0.3, 0.7, 2))  # too little evidence to refuse
    try:
        reviews.check_reviewer(quality.Estimate(0.6, 0.5, 0.7, 20))
    except ReviewerNotQualified:
        pass
    else:
        raise AssertionError("a low-quality reviewer was let through")


def _pref(expert: str, ranking: tuple[str, ...], reliability: float = 0.8) -> Judgment:
    return Judgment(uuid.uuid4(), expert, Answer(DataKind.PREFERENCE, ranking=ranking), reliability)


def test_preference_consensus_weights_reliable_experts() -> None:
    p = project(DataKind.PREFERENCE)
    judgments = [
        _pref("e1", ("b", "a", "c"), 0.95),
        _pref("e2", ("b", "c", "a"), 0.95),
        _pref("e3", ("a", "b", "c"), 0.55),
    ]
    out = consensus.aggregate(p, judgments, candidate_ids=("a", "b", "c"))
    assert isinstance(out.result, PreferenceItem)
    assert out.result.ranking[0] == "b" and set(out.result.ranking) == {"a", "b", "c"}
    assert out.confidence > 0.9 and not out.needs_more
    assert out.agreed == {"e1": True, "e2": True, "e3": False}
    assert np.isclose(out.agreement, 1 / 3)


def test_split_preferences_ask_for_more_until_the_maximum_overlap() -> None:
    p = project(DataKind.PREFERENCE, overlap=2, max_overlap=3)
    split = [_pref("e1", ("a", "b")), _pref("e2", ("b", "a"))]
    assert consensus.aggregate(p, split, candidate_ids=("a", "b")).needs_more
    final = consensus.aggregate(p, [*split, _pref("e3", ("a", "b"))], candidate_ids=("a", "b"))
    assert not final.needs_more, "at the maximum overlap the item is finalized with what it has"


def test_a_project_sets_its_own_consensus_thresholds() -> None:
    """Two of three agreeing at 0.7 reliability leaves the posterior below the default 0.8 (one
    more judgment asked for); a project content with 0.6 takes the item as it is."""
    judgments = [_pref("e1", ("a", "b"), 0.7), _pref("e2", ("a", "b"), 0.7), _pref("e3", ("b", "a"), 0.7)]
    strict = consensus.aggregate(project(DataKind.PREFERENCE), judgments, candidate_ids=("a", "b"))
    assert strict.needs_more and strict.confidence < consensus.MIN_CONFIDENCE
    lenient = dataclasses.replace(project(DataKind.PREFERENCE), min_confidence=0.6)
    out = consensus.aggregate(lenient, judgments, candidate_ids=("a", "b"))
    assert not out.needs_more and out.confidence == strict.confidence


def test_rubric_consensus_is_the_median_with_agreement() -> None:
    p = project(DataKind.RUBRIC_GRADE)

    def grade(e: str, a: int, s: int) -> Judgment:
        return Judgment(uuid.uuid4(), e, Answer(DataKind.RUBRIC_GRADE, scores={"accuracy": a, "style": s}), 0.8)

    out = consensus.aggregate(p, [grade("e1", 4, 3), grade("e2", 4, 4), grade("e3", 1, 3)])
    assert isinstance(out.result, RubricItem)
    assert out.result.scores == {"accuracy": 4.0, "style": 3.0}
    assert out.result.overall == 3.5
    assert out.agreed == {"e1": True, "e2": True, "e3": False}
    wild = consensus.aggregate(p, [grade("e1", 5, 5), grade("e2", 1, 1), grade("e3", 3, 3)])
    assert wild.needs_more and wild.agreement < consensus.MIN_RUBRIC_AGREEMENT


def test_free_text_takes_the_best_reviewed_submission() -> None:
    p = project(DataKind.SFT, overlap=1, max_overlap=1)
    reviewed = Judgment(uuid.uuid4(), "e1", Answer(DataKind.SFT, "x"), 0.6, review_score=0.9)
    unreviewed = Judgment(uuid.uuid4(), "e2", Answer(DataKind.SFT, "y"), 0.99)
    out = consensus.aggregate(p, [unreviewed, reviewed], acceptance_rate=0.5)
    assert out.result == ChosenItem(reviewed.submission_id)
    assert out.confidence == 0.9 and out.agreement == 0.5


def test_suspended_experts_weigh_nothing_until_cleared() -> None:
    """Two colluders (suspended once caught) outvote one accurate expert on a task still open: their
    answers stay on the item but count as a coin, so the item takes the accurate answer or, short
    of confidence, asks for more. Rubric grades and free text treat them alike."""
    p = project(DataKind.PREFERENCE, overlap=3, max_overlap=5)
    colluders = [_pref("c1", ("b", "a"), 0.9), _pref("c2", ("b", "a"), 0.9)]
    honest = _pref("e1", ("a", "b"), 0.95)
    assert consensus.aggregate(p, [*colluders, honest], candidate_ids=("a", "b")).result.ranking[0] == "b"
    caught = [dataclasses.replace(j, suspended=True) for j in colluders]
    out = consensus.aggregate(p, [*caught, honest], candidate_ids=("a", "b"))
    assert out.result.ranking[0] == "a" and np.isclose(out.confidence, 0.95), "the honest expert alone decides"
    assert out.agreed == {"c1": False, "c2": False, "e1": True}, "still evidence about each of them"

    rubric = project(DataKind.RUBRIC_GRADE)

    def grade(e: str, a: int, suspended: bool = False) -> Judgment:
        answer = Answer(DataKind.RUBRIC_GRADE, scores={"accuracy": a, "style": a})
        return Judgment(uuid.uuid4(), e, answer, 0.8, suspended=suspended)

    graded = consensus.aggregate(rubric, [grade("s1", 5, True), grade("s2", 5, True), grade("e1", 2)])
    assert graded.result.scores == {"accuracy": 2.0, "style": 2.0}
    alone = consensus.aggregate(rubric, [grade("s1", 5, True)])
    assert alone.result.scores == {"accuracy": 5.0, "style": 5.0}, "nobody else graded: theirs is all there is"

    sft = project(DataKind.SFT, overlap=1, max_overlap=1)
    suspect = Judgment(uuid.uuid4(), "s1", Answer(DataKind.SFT, "x"), 0.99, review_score=0.95, suspended=True)
    plain = Judgment(uuid.uuid4(), "e1", Answer(DataKind.SFT, "y"), 0.6)
    assert consensus.aggregate(sft, [suspect, plain]).result == ChosenItem(plain.submission_id)
