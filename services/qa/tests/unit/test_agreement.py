"""Krippendorff's alpha as QA computes it: the published worked example, and per-criterion rubric
alphas against the `krippendorff` package on reliability matrices built here independently."""

from __future__ import annotations

import math

import krippendorff
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cohort_qa.domain import agreement

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the example with missing
# data: 4 observers, 12 units, values 1..5, None where an observer gave no value. The paper
# reports alpha = 0.743 (nominal) and 0.849 (interval).
WORKED = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}


def units_of(table: dict[str, list[int | None]]) -> dict[int, dict[str, float]]:
    units: dict[int, dict[str, float]] = {}
    for rater, values in table.items():
        for unit, value in enumerate(values):
            if value is not None:
                units.setdefault(unit, {})[rater] = value
    return units


def test_the_worked_example_gives_the_published_values() -> None:
    assert round(agreement.alpha(units_of(WORKED), "nominal"), 3) == 0.743
    assert round(agreement.alpha(units_of(WORKED), "interval"), 3) == 0.849


def test_rubric_alphas_split_criteria_and_pool_them() -> None:
    # "clarity" is the worked example; "correctness" is the same data shifted by one on one rater,
    # so the two criteria disagree differently and the pooled value is neither.
    ratings: list[tuple[int, str, dict[str, float]]] = []
    for rater, values in WORKED.items():
        for task, value in enumerate(values):
            if value is not None:
                shifted = min(5, value + 1) if rater == "C" else value
                ratings.append((task, rater, {"clarity": value, "correctness": shifted, "unnamed": 1}))
    pooled, per = agreement.rubric_alphas(ratings, ["clarity", "correctness"])
    assert set(per) == {"clarity", "correctness"}
    assert round(per["clarity"], 3) == 0.849
    shifted = np.array(
        [[np.nan if v is None else (min(5, v + 1) if r == "C" else v) for v in vs] for r, vs in WORKED.items()]
    )
    assert per["correctness"] == krippendorff.alpha(reliability_data=shifted, level_of_measurement="interval")
    clarity = np.array([[np.nan if v is None else v for v in vs] for vs in WORKED.values()])
    both = np.concatenate([clarity, shifted], axis=1)  # units: task x criterion
    assert math.isclose(pooled, krippendorff.alpha(reliability_data=both, level_of_measurement="interval"))
    assert per["correctness"] < per["clarity"]


def test_a_criterion_never_scored_twice_has_no_alpha() -> None:
    pooled, per = agreement.rubric_alphas([(1, "a", {"x": 3}), (2, "b", {"x": 4})], ["x", "y"])
    assert math.isnan(pooled) and math.isnan(per["x"]) and math.isnan(per["y"])


@st.composite
def rubric_tables(draw: st.DrawFn) -> tuple[list[str], list[str], list[list[list[float]]]]:
    """criteria x raters x tasks grades on 1..5, NaN for a missing one."""
    raters = [f"exp_{i}" for i in range(draw(st.integers(2, 5)))]
    criteria = [f"c{i}" for i in range(draw(st.integers(1, 3)))]
    tasks = draw(st.integers(2, 8))
    grade = st.one_of(st.none(), st.integers(1, 5))
    table = [[[draw(grade) for _ in range(tasks)] for _ in raters] for _ in criteria]
    return criteria, raters, [[[math.nan if g is None else float(g) for g in row] for row in c] for c in table]


@settings(max_examples=60, deadline=None)
@given(rubric_tables())
def test_each_criterion_alpha_is_the_packages_on_that_criterion(table) -> None:
    criteria, raters, grades = table
    ratings = []
    for t in range(len(grades[0][0])):
        for r, rater in enumerate(raters):
            scores = {c: grades[k][r][t] for k, c in enumerate(criteria) if not math.isnan(grades[k][r][t])}
            if scores:
                ratings.append((t, rater, scores))
    _, per = agreement.rubric_alphas(ratings, criteria)
    for k, criterion in enumerate(criteria):
        data = np.array(grades[k])
        pairable = data[:, (~np.isnan(data)).sum(axis=0) >= 2]
        present = pairable[~np.isnan(pairable)]
        if present.size == 0 or np.unique(present).size < 2:
            assert math.isnan(per[criterion])  # nothing to agree on, or no variation: no alpha
        else:
            expected = krippendorff.alpha(reliability_data=pairable, level_of_measurement="interval")
            assert math.isclose(per[criterion], expected, rel_tol=1e-9, abs_tol=1e-12)
