"""The order an assignment shows its candidates in: tasking's to decide, QA's to judge position bias by."""

from __future__ import annotations

import collections
import uuid

from hypothesis import given
from hypothesis import strategies as st

from cohort_tasking.domain.display_order import display_order


@given(st.uuids(), st.lists(st.text(min_size=1, max_size=8), min_size=2, max_size=9, unique=True))
def test_display_order_is_a_fixed_permutation_per_assignment(assignment: uuid.UUID, candidates: list[str]) -> None:
    order = display_order(str(assignment), candidates)
    assert sorted(order) == sorted(candidates)
    assert display_order(str(assignment), candidates) == order, "a reload shows the same order"


def test_display_order_puts_each_candidate_first_about_equally_often() -> None:
    firsts = collections.Counter(display_order(str(uuid.UUID(int=i)), ["a", "b", "c"])[0] for i in range(3000))
    # 1,000 expected each; 4 standard deviations (~26) either side leaves room only for chance.
    assert all(880 <= firsts[c] <= 1120 for c in "abc"), firsts
