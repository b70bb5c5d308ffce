"""QA's verdict rule on its own: no database, no events."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from cohort_qa.domain import quality
from cohort_qa.domain.checks import Finding
from cohort_qa.domain.gold import GoldOutcome
from cohort_qa.domain.states import SubmissionState
from cohort_qa.domain.verdicts import Case, GoldCheck, decide

TOO_SHORT = Finding("too_short", hard=True)
FAST = Finding("too_fast", hard=False)


def case(*findings: Finding, answered=True, gold=None, p=0.0, sid=None) -> Case:
    return Case(sid or uuid.uuid4(), findings, answered, gold, p)


def test_hard_findings_or_no_answer_reject_and_count_against_the_expert():
    verdict = decide(case(TOO_SHORT, FAST))
    assert (verdict.state, verdict.reasons) == (SubmissionState.REJECTED, ("too_short",))
    assert verdict.evidence == quality.failed_checks()
    assert decide(case(answered=False)).state is SubmissionState.REJECTED
    # Hard findings win over gold: a malformed answer to a control task is not scored.
    assert decide(case(TOO_SHORT, gold=GoldCheck(True, GoldOutcome.CORRECT))).gold_outcome is None


def test_gold_decides_a_control_task_or_hands_it_to_a_reviewer():
    right = decide(case(FAST, gold=GoldCheck(True, GoldOutcome.CORRECT)))
    assert (right.state, right.gold_outcome, right.evidence) == (
        SubmissionState.ACCEPTED,
        "correct",
        quality.gold(True),
    )
    wrong = decide(case(gold=GoldCheck(True, GoldOutcome.INCORRECT)))
    assert (wrong.state, wrong.reasons, wrong.gold_outcome) == (
        SubmissionState.REJECTED,
        ("gold_mismatch",),
        "incorrect",
    )
    free_text = decide(case(FAST, gold=GoldCheck(True, None)))
    assert (free_text.state, free_text.reasons) == (SubmissionState.IN_REVIEW, ("gold_free_text", "too_fast"))
    assert decide(case(gold=GoldCheck(False, None))).reasons == ("gold_reference_missing",)


def test_soft_findings_go_to_review_without_judging_the_expert():
    verdict = decide(case(FAST, p=0.0))
    assert (verdict.state, verdict.reasons, verdict.evidence) == (SubmissionState.IN_REVIEW, ("too_fast",), None)


@given(st.uuids(), st.floats(0.0, 1.0))
def test_the_review_draw_is_fixed_by_the_submission(sid, p):
    first, again = decide(case(sid=sid, p=p)), decide(case(sid=sid, p=p))
    assert first == again
    assert first.state in (SubmissionState.ACCEPTED, SubmissionState.IN_REVIEW)
    if p == 0.0:
        assert first.state is SubmissionState.ACCEPTED
    if p == 1.0:
        assert first.reasons == ("sampled",)


def test_the_review_rate_is_honoured_over_many_submissions():
    reviewed = sum(decide(case(p=0.2)).state is SubmissionState.IN_REVIEW for _ in range(4000))
    assert 0.17 < reviewed / 4000 < 0.23
