"""When a task is ready to aggregate, checked against the rule written out plainly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cohort_qa.domain.finalization import readiness
from cohort_qa.domain.states import SubmissionState

states = st.lists(st.sampled_from(list(SubmissionState)), max_size=12)


@given(states, st.integers(1, 6), st.integers(1, 10))
def test_ready_with_its_target_of_accepted_or_when_no_more_can_come(subs, target, most):
    standing = readiness(subs, target, most)
    accepted = subs.count(SubmissionState.ACCEPTED)
    decided = accepted + subs.count(SubmissionState.REJECTED)
    # Rejected answers are replaced beyond the maximum overlap, up to twice it in slots.
    no_more = accepted >= most or decided >= 2 * most
    expected = accepted > 0 and (accepted >= target or no_more)
    assert (standing is not None) == expected
    if standing is not None:
        assert (standing.accepted, standing.decided, standing.exhausted) == (accepted, decided, no_more)
        assert 0 < standing.acceptance_rate <= 1


def test_waiting_and_in_review_work_does_not_count():
    waiting = [SubmissionState.WAITING, SubmissionState.IN_REVIEW, SubmissionState.ACCEPTED]
    assert readiness(waiting, 2, 3) is None
    assert readiness([*waiting, SubmissionState.ACCEPTED], 2, 3) is not None
    # Two rejected answers do not use up a maximum overlap of 3: their replacements will come.
    rejected_twice = [SubmissionState.REJECTED, SubmissionState.REJECTED, SubmissionState.ACCEPTED]
    assert readiness(rejected_twice, 3, 3) is None
    # Six slots (the ceiling) used up by decided work, one of them accepted: aggregate what there is.
    exhausted = readiness([SubmissionState.REJECTED] * 5 + [SubmissionState.ACCEPTED], 3, 3)
    assert exhausted is not None and exhausted.exhausted and exhausted.acceptance_rate == 1 / 6
