"""Eligibility, ordering, lease time and submission rules, with no I/O."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cohort_tasking.domain.experts import Expert, ExpertStatus
from cohort_tasking.domain.leases import active_seconds_after_beat
from cohort_tasking.domain.routing import PRIOR_UPPER, Criterion, RoutingProject, ineligibility, routing_order
from cohort_tasking.domain.submissions import PREFERENCE, RUBRIC_GRADE, SFT, TRAJECTORY, Payload, Step, validate

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
LAB = uuid.uuid4()


def expert(**kw) -> Expert:
    base = Expert(
        "exp_abcdef",
        3,
        ("chemistry.organic",),
        (),
        ("en-GB", "de"),
        "DE",
        "Europe/Berlin",
        20,
        (),
        False,
        ExpertStatus.ACTIVE,
        NOW,
    )
    return dataclasses.replace(base, **kw)


def project(**kw) -> RoutingProject:
    base = RoutingProject(
        uuid.uuid4(),
        LAB,
        PREFERENCE,
        "chemistry.organic",
        3,
        ("chemistry",),
        ("en",),
        (),
        0.0,
        2,
        2,
        0.1,
        10,
        NOW + dt.timedelta(days=1),
        dt.timedelta(minutes=30),
        0,
        0,
        (Criterion("quality", 1, 5),),
    )
    return dataclasses.replace(base, **kw)


@pytest.mark.parametrize(
    ("e", "p", "reason"),
    [
        (expert(status=ExpertStatus.SUSPENDED), project(), "suspended"),
        (expert(blocked_lab_ids=(LAB,)), project(), "conflict of interest"),
        (expert(degree=2), project(), "degree"),
        (expert(fields=("physics",)), project(), "field"),
        (expert(fields=("chemistry",)), project(fields=("chemistry.organic",)), "field"),
        (expert(), project(languages=("fr",)), "language"),
        (expert(), project(cohort_ids=("nov",)), "cohort"),
        (expert(), project(min_quality=PRIOR_UPPER + 0.01), "quality"),
    ],
)
def test_each_rule_can_exclude(e, p, reason):
    assert reason in (ineligibility(e, frozenset(), {}, p) or "")


def test_eligible_expert_and_the_rules_that_admit():
    assert ineligibility(expert(), frozenset(), {}, project()) is None
    assert ineligibility(expert(), frozenset({"nov"}), {}, project(cohort_ids=("nov", "dec"))) is None
    assert ineligibility(expert(), frozenset(), {"chemistry.organic": 0.9}, project(min_quality=0.8)) is None
    assert ineligibility(expert(), frozenset(), {}, project(languages=("EN", "de"))) is None, "en-GB speaks en"


def test_quality_bars_only_an_expert_confidently_below_the_minimum():
    # The upper bound of QA's interval is what counts: a 0.68 expert whose mean dipped to 0.55
    # after a few judgments still has a bound above 0.6 and keeps working.
    assert ineligibility(expert(), frozenset(), {"chemistry.organic": 0.71}, project(min_quality=0.6)) is None
    why = ineligibility(expert(), frozenset(), {"chemistry.organic": 0.59}, project(min_quality=0.6))
    assert why == "quality in the domain confidently below the project's minimum"
    # An unmeasured expert counts at the prior's bound: a project asking 0.8 admits them.
    assert ineligibility(expert(), frozenset(), {}, project(min_quality=0.8)) is None


def test_the_prior_bound_is_qas_prior_95th_percentile():
    from scipy.stats import beta  # QA's distribution library; tasking itself needs only the number

    assert beta.ppf(0.95, 3, 1) == pytest.approx(PRIOR_UPPER)


def test_projects_are_offered_by_priority_then_deadline():
    late = project(priority=5, deadline=NOW + dt.timedelta(days=9))
    soon = project(priority=5, deadline=NOW + dt.timedelta(days=1))
    urgent = project(priority=50, deadline=NOW + dt.timedelta(days=30))
    assert routing_order([late, soon, urgent]) == [urgent, soon, late]


@given(
    active=st.integers(0, 10_000),
    gap=st.floats(-100, 10_000),
    lease=st.integers(1, 3600),
    cap=st.integers(0, 20_000),
)
def test_active_time_grows_by_at_most_one_lease_and_never_beyond_the_cap(active, gap, lease, cap):
    after = active_seconds_after_beat(active, NOW, NOW + dt.timedelta(seconds=gap), dt.timedelta(seconds=lease), cap)
    assert after >= min(active, cap) if cap else after >= active
    assert after <= active + lease
    if cap:
        assert after <= cap


RUBRIC = (Criterion("quality", 1, 5),)


def fields(payload, kind, candidates=("a", "b"), rubric=RUBRIC):
    return {v.field for v in validate(payload, kind, candidates, rubric)}


def test_submission_rules_per_kind():
    assert fields(Payload("preference", {}, ranking=("b", "a")), PREFERENCE) == set()
    assert fields(Payload("preference", {}, ranking=("b", "b")), PREFERENCE) == {"payload.preference.ranking"}
    assert fields(Payload("preference", {}, ranking=("a", "b"), scores=(("quality", 9),)), PREFERENCE) == {
        "payload.preference.criterion_scores[quality]"
    }
    assert fields(Payload("sft", {"response": "x"}), PREFERENCE) == {"payload"}
    assert fields(Payload("sft", {"response": " "}), SFT) == {"payload.sft.response"}
    assert fields(Payload("rubric_grade", {}, scores=()), RUBRIC_GRADE) == {"payload.rubric_grade.scores[quality]"}
    bad_action = Step("action", "", "", "[1]")
    assert fields(Payload("trajectory", {"final_answer": "42"}, steps=(bad_action,)), TRAJECTORY) == {
        "payload.trajectory.steps[0]"
    }
    good_action = Step("action", "", "search", '{"q": 1}')
    assert fields(Payload("trajectory", {"final_answer": "42"}, steps=(good_action,)), TRAJECTORY) == set()
