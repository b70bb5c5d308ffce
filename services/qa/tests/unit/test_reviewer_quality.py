"""Reviewer quality: what a review says about reviewers, the floor, and how far a review moves
the expert it judges."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cohort_qa.domain import quality, reviewer_quality
from cohort_qa.domain.quality import Evidence


def test_gold_decides_right_and_wrong_verdicts() -> None:
    assert reviewer_quality.evidence_of_review("r", True, True, []) == {"r": Evidence(1.0, 0.0, 1)}
    assert reviewer_quality.evidence_of_review("r", True, False, []) == {"r": Evidence(0.0, 1.0, 1)}
    assert reviewer_quality.evidence_of_review("r", False, False, []) == {"r": Evidence(1.0, 0.0, 1)}
    assert reviewer_quality.evidence_of_review("r", False, None, []) == {}, "no gold, no other review: nothing"


def test_a_double_review_moves_both_reviewers_alike() -> None:
    agreed = reviewer_quality.evidence_of_review("r", True, None, [("o", True)])
    assert agreed == {"r": Evidence(0.5, 0.0, 1), "o": Evidence(0.5, 0.0, 1)}
    split = reviewer_quality.evidence_of_review("r", True, True, [("o", False)])
    assert split == {"r": Evidence(1.0, 0.5, 2), "o": Evidence(0.0, 0.5, 1)}
    # A reviewer's own earlier verdict (a retried call) is not a second opinion.
    assert reviewer_quality.evidence_of_review("r", True, None, [("r", True)]) == {}


def test_the_floor_needs_evidence_and_confidence() -> None:
    (prior,) = reviewer_quality.estimate_all([Evidence()])
    assert abs(prior.mean - reviewer_quality.PRIOR_MEAN) < 1e-12 and abs(prior.mean - 0.8) < 1e-12
    assert not reviewer_quality.excluded(prior)
    (nine_wrong,) = reviewer_quality.estimate_all([Evidence(0, 9, 9)])
    assert not reviewer_quality.excluded(nine_wrong), "too little evidence to act on"
    (ten_wrong,) = reviewer_quality.estimate_all([Evidence(0, 10, 10)])
    assert reviewer_quality.excluded(ten_wrong)
    (mostly_right,) = reviewer_quality.estimate_all([Evidence(8, 2, 10)])
    assert not reviewer_quality.excluded(mostly_right)
    assert not reviewer_quality.excluded(None)


@given(st.floats(0, 1), st.booleans(), st.floats(0.05, 1))
def test_a_review_counts_as_far_as_its_reviewer_is_trusted(total: float, accepted: bool, trust: float) -> None:
    full = quality.review(total, accepted)
    weighed = quality.review(total, accepted, trust)
    assert weighed.pieces == full.pieces == 1
    assert abs(weighed.successes - trust * full.successes) < 1e-12
    assert abs(weighed.failures - trust * full.failures) < 1e-12
    assert abs(weighed.successes + weighed.failures - trust) < 1e-12
