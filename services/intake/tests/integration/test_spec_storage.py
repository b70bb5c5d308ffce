"""Project specs are stored as the API's ProjectSpec in protobuf's JSON mapping; specs stored in
the earlier layout are rewritten by migration 0006 and read back as the same spec."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cohort_intake.config import IntakeSettings
from cohort_intake.db import projects as repo
from cohort_intake.db.spec_json import from_json, to_json
from cohort_intake.domain.spec import (
    DataKind,
    DegreeLevel,
    HourlyPay,
    PayModel,
    PerSubmissionPay,
    ProjectSpec,
    Qualifications,
    RubricCriterion,
)
from cohort_runtime.migrations import Migration, migrate, migrations_in, runtime_migrations

MIGRATIONS = IntakeSettings.model_fields["migrations_dir"].default

SPEC = ProjectSpec(
    title="Organic mechanisms",
    data_kind=DataKind.PREFERENCE,
    domain="chemistry.organic",
    qualifications=Qualifications(
        minimum_degree=DegreeLevel.MASTER,
        fields=("chemistry",),
        languages=("en", "de"),
        cohort_ids=("c1",),
        minimum_quality=0.7,
        screening_tasks=5,
        screening_pass_share=0.8,
    ),
    instructions_markdown="Rank the answers.",
    rubric=(RubricCriterion("correct", "Is it right?", 2.0, 1, 5), RubricCriterion("clear", "", 1.0, 1, 3)),
    target_accepted_items=100,
    overlap=3,
    max_overlap=5,
    gold_rate=0.1,
    review_sample_rate=0.05,
    pay=PayModel(model=HourlyPay(hourly_rate_minor=4500, per_task_cap_minutes=20), review_rate_minor=300),
    currency_code="EUR",
    budget_cap_minor=10_000_000_000,
    deadline=dt.datetime(2027, 3, 1, 12, 30, 15, 250000, tzinfo=dt.UTC),
    priority=70,
    lease=dt.timedelta(minutes=45),
    per_expert_task_cap=40,
)

# The same spec as the earlier layout stored it.
LEGACY = {
    "title": "Organic mechanisms",
    "data_kind": "preference",
    "domain": "chemistry.organic",
    "qualifications": {
        "minimum_degree": 3,
        "fields": ["chemistry"],
        "languages": ["en", "de"],
        "cohort_ids": ["c1"],
        "minimum_quality": 0.7,
        "screening_tasks": 5,
        "screening_pass_share": 0.8,
    },
    "instructions_markdown": "Rank the answers.",
    "rubric": [
        {"name": "correct", "description": "Is it right?", "weight": 2.0, "scale_min": 1, "scale_max": 5},
        {"name": "clear", "description": "", "weight": 1.0, "scale_min": 1, "scale_max": 3},
    ],
    "target_accepted_items": 100,
    "overlap": 3,
    "max_overlap": 5,
    "gold_rate": 0.1,
    "review_sample_rate": 0.05,
    "pay": {"review_rate_minor": 300, "hourly": {"hourly_rate_minor": 4500, "per_task_cap_minutes": 20}},
    "currency_code": "EUR",
    "budget_cap_minor": 10_000_000_000,
    "deadline": "2027-03-01T12:30:15.250000+00:00",
    "priority": 70,
    "lease_seconds": 2700.0,
    "per_expert_task_cap": 40,
}

# A draft as first saved: most fields unset.
LEGACY_DRAFT = {
    **LEGACY,
    "data_kind": None,
    "deadline": None,
    "lease_seconds": None,
    "qualifications": {**LEGACY["qualifications"], "screening_tasks": 0, "screening_pass_share": 0.0},
    "pay": {"review_rate_minor": 0, "per_submission": {"rate_minor": 1200}},
}


async def test_specs_in_the_earlier_layout_are_rewritten_and_read_back_unchanged(database_url, schema):
    steps = [*runtime_migrations(), *migrations_in("intake", MIGRATIONS)]
    # The schema as it was before 0006, holding specs in the earlier layout.
    before = [m for m in steps if isinstance(m, Migration) and (m.component == "runtime" or m.version < 6)]
    conn = await asyncpg.connect(database_url)
    try:
        await migrate(conn, schema, before)
        await conn.execute(f"SET search_path TO {schema}")
        lab, now = uuid.uuid4(), dt.datetime.now(dt.UTC)
        await conn.execute("INSERT INTO labs VALUES ($1, 'L', $2, $3, 'f')", lab, now, uuid.uuid4())
        ids = {}
        for name, doc in (("full", LEGACY), ("draft", LEGACY_DRAFT)):
            ids[name] = uuid.uuid4()
            await conn.execute(
                """INSERT INTO projects (project_id, lab_id, state, spec, instructions_version, rubric_version,
                       create_time, update_time, request_id, request_fingerprint)
                   VALUES ($1, $2, 'draft', $3::jsonb, 1, 1, $4, $4, $5, 'f')""",
                ids[name], lab, json.dumps(doc), now, uuid.uuid4(),
            )  # fmt: skip
        applied = await migrate(conn, schema, steps)
        assert "intake:0006_spec_as_proto_json.sql" in applied
        full = await repo.get_internal(conn, ids["full"])
        draft = await repo.get_internal(conn, ids["draft"])
    finally:
        await conn.close()
    assert full is not None and full.spec == SPEC
    assert draft is not None
    assert draft.spec.data_kind is None and draft.spec.deadline is None and draft.spec.lease is None
    assert draft.spec.qualifications.screening_tasks == 0
    assert draft.spec.pay.model == PerSubmissionPay(rate_minor=1200)


texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=texts,
    kind=st.none() | st.sampled_from(list(DataKind)),
    # Stored specs are normalised: the API trims fields of study (and so does the stored form).
    fields=st.lists(texts.map(str.strip), max_size=3).map(tuple),
    quality=st.floats(0, 1),
    screening=st.integers(0, 50),
    weight=st.floats(0.1, 10),
    budget=st.integers(1, 2**62),
    deadline=st.none() | st.datetimes(timezones=st.just(dt.UTC), min_value=dt.datetime(2000, 1, 1)),  # noqa: DTZ001 - hypothesis bounds are naive
    lease=st.none() | st.timedeltas(min_value=dt.timedelta(minutes=1), max_value=dt.timedelta(hours=24)),
)
def test_any_spec_survives_its_stored_form(title, kind, fields, quality, screening, weight, budget, deadline, lease):
    lease = dt.timedelta(microseconds=lease // dt.timedelta(microseconds=1)) if lease else None
    spec = ProjectSpec(
        title=title,
        data_kind=kind,
        domain="law.contracts",
        qualifications=Qualifications(
            minimum_degree=DegreeLevel.DOCTORATE,
            fields=fields,
            minimum_quality=quality,
            screening_tasks=screening,
            screening_pass_share=0.5 if screening else 0.0,
        ),
        rubric=(RubricCriterion("q", "", weight, 1, 5),),
        pay=PayModel(model=PerSubmissionPay(rate_minor=budget), review_rate_minor=1),
        budget_cap_minor=budget,
        deadline=deadline,
        lease=lease,
    )
    assert from_json(json.loads(json.dumps(to_json(spec)))) == spec
