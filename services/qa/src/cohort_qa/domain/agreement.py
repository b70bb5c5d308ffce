"""Agreement among experts: Krippendorff's alpha over a project, observed agreement per item."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
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


def observed_agreement(labels: Sequence[Hashable]) -> float:
    """Share of pairs of judgments of one item that agree (1.0 for a single judgment)."""
    n = len(labels)
    if n < 2:
        return 1.0
    pairs = sum(c * (c - 1) for c in Counter(labels).values())
    return pairs / (n * (n - 1))
