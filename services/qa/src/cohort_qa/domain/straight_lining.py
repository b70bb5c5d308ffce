"""Straight-lining: a rubric grader who gives every criterion one and the same score, item after
item. It is the rubric's counterpart of always picking the first-shown candidate: quick, and
saying nothing about the work.

Unlike position bias there is no exact chance rate to test against: an honest grader gives a flat
grade (every criterion the same score) whenever the work deserves it. So an expert is weighed
against the project's other graders: the null is that they grade flat as often as the others do,
that rate taken at the upper 99 % credible bound of what the others did and never below
`FLOOR`. An expert whose flat grades are beyond doubt under it (one-sided binomial tail below
`P_VALUE`, the bar position bias suspends at) is suspended in the project until an operator
clears them. Quality evidence would bar them too, but only after ~50 grades in a demo run: their
grades are often near the truth by luck, and agreement evidence is weak.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from scipy.stats import beta, binom

MIN_GRADES = 12
FLOOR = 0.2
P_VALUE = 1e-6


def is_flat(scores: Mapping[str, float]) -> bool:
    """Every criterion (at least two) given the same score."""
    return len(scores) >= 2 and len(set(scores.values())) == 1


def beyond_doubt(flat: int, graded: int, others_flat: int, others_graded: int) -> bool:
    """Whether `flat` flat grades of `graded` are beyond doubt against the other graders'
    `others_flat` of `others_graded`."""
    if graded < MIN_GRADES:
        return False
    return _tail(flat, graded, others_flat, others_graded) < P_VALUE


@functools.lru_cache(maxsize=65536)
def _tail(flat: int, graded: int, others_flat: int, others_graded: int) -> float:
    rate = max(FLOOR, float(beta.ppf(0.99, others_flat + 1, others_graded - others_flat + 1)))
    return float(binom.sf(flat - 1, graded, rate))
