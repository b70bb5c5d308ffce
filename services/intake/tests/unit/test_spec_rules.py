"""Project spec validation and the lifecycle rules, with no I/O."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cohort_intake.domain.errors import IllegalTransition
from cohort_intake.domain.projects import ProjectState, Transition, new_project
from cohort_intake.domain.spec import (
    ConsensusThresholds,
    DataKind,
    HourlyPay,
    PayModel,
    PerSubmissionPay,
    ProjectSpec,
    Qualifications,
    RubricCriterion,
    fingerprint,
    validate,
)

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)


def good(**changes: object) -> ProjectSpec:
    spec = ProjectSpec(
        title="t",
        data_kind=DataKind.PREFERENCE,
        domain="mathematics.algebra",
        qualifications=Qualifications(fields=("mathematics",), languages=("en", "de-CH")),
        instructions_markdown="do it",
        rubric=(RubricCriterion("a", "", 0.25, 1, 5), RubricCriterion("b", "", 0.75, 0, 10)),
        target_accepted_items=10,
        overlap=2,
        gold_rate=0.1,
        review_sample_rate=0.5,
        pay=PayModel(PerSubmissionPay(100)),
        currency_code="usd",
        budget_cap_minor=200,
        deadline=NOW + dt.timedelta(days=1),
    )
    return dataclasses.replace(spec, **changes).normalised()


def fields(spec: ProjectSpec) -> set[str]:
    return {v.field for v in validate(spec, NOW)}


def test_a_good_spec_has_no_violations_and_is_normalised():
    spec = good()
    assert validate(spec, NOW) == []
    assert (spec.currency_code, spec.max_overlap, spec.lease) == ("USD", 2, dt.timedelta(hours=1))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "spec.title"),
        ({"data_kind": None}, "spec.data_kind"),
        ({"domain": "chemistry"}, "spec.domain"),
        ({"qualifications": Qualifications(fields=("astrology",))}, "spec.qualifications.fields[0]"),
        (
            {"qualifications": Qualifications(languages=("english language",))},
            "spec.qualifications.languages[0]",
        ),
        ({"qualifications": Qualifications(minimum_quality=1.5)}, "spec.qualifications.minimum_quality"),
        (
            {"qualifications": Qualifications(screening_tasks=51, screening_pass_share=0.8)},
            "spec.qualifications.screening.tasks",
        ),
        (
            {"qualifications": Qualifications(screening_tasks=5, screening_pass_share=0.0)},
            "spec.qualifications.screening.pass_share",
        ),
        (
            {
                "data_kind": DataKind.SFT_DEMONSTRATION,
                "qualifications": Qualifications(screening_tasks=5, screening_pass_share=0.8),
            },
            "spec.qualifications.screening",
        ),
        ({"rubric": ()}, "spec.rubric.criteria"),
        ({"rubric": (RubricCriterion("A b", "", 1.0, 1, 5),)}, "spec.rubric.criteria[0].name"),
        ({"rubric": (RubricCriterion("a", "", 1.0, 5, 5),)}, "spec.rubric.criteria[0].scale_max"),
        (
            {"rubric": (RubricCriterion("a", "", 0.5, 1, 5), RubricCriterion("a", "", 0.5, 1, 5))},
            "spec.rubric.criteria[1].name",
        ),
        ({"target_accepted_items": 0}, "spec.target_accepted_items"),
        ({"overlap": 10}, "spec.overlap"),
        ({"overlap": 3, "max_overlap": 2, "budget_cap_minor": 10_000}, "spec.max_overlap"),
        ({"gold_rate": float("nan")}, "spec.gold_rate"),
        ({"review_sample_rate": -0.1}, "spec.review_sample_rate"),
        ({"pay": PayModel(None)}, "spec.pay"),
        ({"pay": PayModel(HourlyPay(1000, 0))}, "spec.pay.hourly.per_task_cap_minutes"),
        ({"currency_code": "XAU"}, "spec.currency_code"),
        ({"currency_code": "EURO"}, "spec.currency_code"),
        ({"budget_cap_minor": 199}, "spec.budget_cap_minor"),
        ({"deadline": NOW}, "spec.deadline"),
        ({"priority": -1}, "spec.priority"),
        ({"lease": dt.timedelta(seconds=30)}, "spec.lease_duration"),
        ({"per_expert_task_cap": -1}, "spec.per_expert_task_cap"),
        ({"consensus": ConsensusThresholds(min_confidence=0.3)}, "spec.consensus.min_confidence"),
        ({"consensus": ConsensusThresholds(min_rubric_agreement=float("nan"))}, "spec.consensus.min_rubric_agreement"),
        ({"consensus": ConsensusThresholds(rubric_tolerance=0.0)}, "spec.consensus.rubric_tolerance"),
    ],
)
def test_each_rule_names_its_field(change, field):
    assert field in fields(good(**change))


def test_hourly_budget_covers_a_full_time_cap_per_expert():
    hourly = PayModel(HourlyPay(hourly_rate_minor=3000, per_task_cap_minutes=30))  # 1500 per submission
    assert fields(good(pay=hourly, overlap=2, budget_cap_minor=2999)) == {"spec.budget_cap_minor"}
    assert fields(good(pay=hourly, overlap=2, budget_cap_minor=3000)) == set()


@given(weights=st.lists(st.floats(min_value=0.001, max_value=1.0), min_size=1, max_size=20))
def test_rubric_weights_must_sum_to_one(weights):
    rubric = tuple(RubricCriterion(f"c{i}", "", w, 1, 5) for i, w in enumerate(weights))
    sums_to_one = abs(sum(weights) - 1.0) <= 1e-6
    assert ("spec.rubric.criteria" in fields(good(rubric=rubric))) is not sums_to_one


@given(
    overlap=st.integers(-2, 12),
    rate=st.integers(-5, 10_000),
    budget=st.integers(-5, 200_000),
)
def test_budget_rule_agrees_with_arithmetic(overlap, rate, budget):
    spec = good(overlap=overlap, max_overlap=0, pay=PayModel(PerSubmissionPay(rate)), budget_cap_minor=budget)
    bad = fields(spec)
    if 1 <= overlap <= 9 and rate > 0 and budget > 0:
        assert ("spec.budget_cap_minor" in bad) == (budget < rate * overlap)


def test_fingerprint_follows_content():
    assert fingerprint(good()) == fingerprint(good())
    assert fingerprint(good()) != fingerprint(good(title="other"))


LEGAL = {
    (ProjectState.DRAFT, Transition.ACTIVATE): ProjectState.ACTIVE,
    (ProjectState.DRAFT, Transition.CANCEL): ProjectState.CANCELLED,
    (ProjectState.ACTIVE, Transition.PAUSE): ProjectState.PAUSED,
    (ProjectState.ACTIVE, Transition.CANCEL): ProjectState.CANCELLED,
    (ProjectState.ACTIVE, Transition.COMPLETE): ProjectState.COMPLETED,
    (ProjectState.PAUSED, Transition.RESUME): ProjectState.ACTIVE,
    (ProjectState.PAUSED, Transition.CANCEL): ProjectState.CANCELLED,
    (ProjectState.PAUSED, Transition.COMPLETE): ProjectState.COMPLETED,
}


@pytest.mark.parametrize(("state", "transition"), list(itertools.product(ProjectState, Transition)))
def test_transition_table(state, transition):
    import uuid

    project = dataclasses.replace(new_project(uuid.uuid4(), good(), NOW), state=state)
    if (state, transition) in LEGAL:
        assert project.apply(transition, NOW, "why").state is LEGAL[(state, transition)]
    else:
        with pytest.raises(IllegalTransition, match=f"it is {state.value}"):
            project.apply(transition, NOW)


def test_only_drafts_change_their_spec_and_versions_follow_content():
    import uuid

    draft = new_project(uuid.uuid4(), good(), NOW)
    same_text = draft.with_spec(good(title="renamed"), NOW)
    assert (same_text.instructions_version, same_text.rubric_version) == (1, 1)
    both = draft.with_spec(good(instructions_markdown="new", rubric=(RubricCriterion("z", "", 1.0, 0, 1),)), NOW)
    assert (both.instructions_version, both.rubric_version) == (2, 2)
    with pytest.raises(IllegalTransition):
        draft.apply(Transition.ACTIVATE, NOW).with_spec(good(), NOW)
