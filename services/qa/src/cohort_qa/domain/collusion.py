"""Experts who agree with each other more than their skill explains.

Two honest experts judge independently given the true answer, so how often they agree follows
from their confusion matrices and how common each answer is: for a pair (i, j) the chance of the
same first choice on an item is E = Σ_c π_c Σ_k C_i[c, k] · C_j[c, k]. Colluders (copying each
other, or one coin for both) agree far more often than that, right and wrong alike.

Over the n items a pair both judged, with k agreements, the one-sided binomial tail
P(X ≥ k | n, E) is the evidence. A pair is suspect when that tail is below alpha divided by the number
of pairs tested (Bonferroni: the whole project's false-alarm chance stays below alpha), the pair
shared at least `min_shared` items, and the excess k/n - E is at least `min_excess` (large
samples make tiny, harmless excesses significant). With alpha = 0.001 an honest crowd, simulated
with known skills, raises no flag in 200 projects (tests/unit/test_collusion.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy.stats import binom

ALPHA = 1e-3
MIN_SHARED = 20
MIN_EXCESS = 0.15


@dataclass(frozen=True)
class SuspectPair:
    experts: tuple[str, str]
    shared: int
    agreed: int
    expected: float
    p_value: float


def expected_agreement(conf_i: np.ndarray, conf_j: np.ndarray, priors: np.ndarray) -> float:
    """The chance two independent experts with these confusion matrices give the same label."""
    return float(np.sum(priors[:, None] * conf_i * conf_j))


def pair_counts(labels: Iterable[tuple[str, str, int]]) -> dict[tuple[str, str], tuple[int, int]]:
    """(item, expert, label) judgments -> per expert pair (sorted ids): (items shared, agreements).
    An expert's later judgment of an item they already judged is ignored."""
    by_item: dict[str, dict[str, int]] = defaultdict(dict)
    for item, expert, label in labels:
        by_item[item].setdefault(expert, label)
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for judged in by_item.values():
        for a, b in combinations(sorted(judged), 2):
            c = counts[(a, b)]
            c[0] += 1
            c[1] += int(judged[a] == judged[b])
    return {pair: (n, k) for pair, (n, k) in counts.items()}


def suspect_pairs(
    counts: Mapping[tuple[str, str], tuple[int, int]],
    confusion: Mapping[str, np.ndarray],
    priors: np.ndarray,
    *,
    alpha: float = ALPHA,
    min_shared: int = MIN_SHARED,
    min_excess: float = MIN_EXCESS,
) -> list[SuspectPair]:
    """The pairs whose agreement their fitted confusion matrices cannot explain, most suspect first."""
    tested = [
        (pair, n, k, expected_agreement(confusion[pair[0]], confusion[pair[1]], priors))
        for pair, (n, k) in counts.items()
        if n >= min_shared and pair[0] in confusion and pair[1] in confusion
    ]
    if not tested:
        return []
    threshold = alpha / len(tested)
    out = []
    for pair, n, k, expected in tested:
        if k / n - expected < min_excess:
            continue
        p_value = float(binom.sf(k - 1, n, expected))
        if p_value < threshold:
            out.append(SuspectPair(pair, n, k, expected, p_value))
    return sorted(out, key=lambda s: s.p_value)
