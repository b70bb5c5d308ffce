"""Agreement among experts: Krippendorff's alpha over a project, observed agreement per item."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Literal

import krippendorff
import numpy as np

Level = Literal["nominal", "ordinal", "interval", "ratio"]


def alpha(units: Mapping[Hashable, Mapping[str, float]], level: Level) -> float:
    """Krippendorff's alpha; `units` maps each unit (task, or task x criterion) to its raters'
    values. NaN until some unit has two values, or when every value is the same (no variation)."""
    raters = sorted({r for values in units.values() for r in values})
    pairable = [u for u, values in units.items() if len(values) >= 2]
    if not pairable or not raters:
        return math.nan
    index = {r: i for i, r in enumerate(raters)}
    data = np.full((len(raters), len(pairable)), np.nan)
    for j, unit in enumerate(pairable):
        for rater, value in units[unit].items():
            data[index[rater], j] = value
    present = data[~np.isnan(data)]
    if np.unique(present).size < 2:
        return math.nan
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))


def rubric_alphas(
    ratings: Iterable[tuple[Hashable, str, Mapping[str, float]]], criteria: Sequence[str]
) -> tuple[float, dict[str, float]]:
    """Interval alphas of rubric grades given as (task, expert, {criterion: score}): pooled over
    every task x criterion unit, and for each of `criteria` alone (a score under a criterion the
    rubric does not name counts in neither)."""
    named = set(criteria)
    pooled: dict[Hashable, dict[str, float]] = defaultdict(dict)
    per: dict[str, dict[Hashable, dict[str, float]]] = {c: defaultdict(dict) for c in criteria}
    for task, expert, scores in ratings:
        for criterion, value in scores.items():
            if criterion in named:
                pooled[(task, criterion)][expert] = value
                per[criterion][task][expert] = value
    return alpha(pooled, "interval"), {c: alpha(units, "interval") for c, units in per.items()}


def observed_agreement(labels: Sequence[Hashable]) -> float:
    """Share of pairs of judgments of one item that agree (1.0 for a single judgment)."""
    n = len(labels)
    if n < 2:
        return 1.0
    pairs = sum(c * (c - 1) for c in Counter(labels).values())
    return pairs / (n * (n - 1))
