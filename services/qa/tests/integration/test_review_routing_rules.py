"""Review leasing routes a reviewer like an expert: the rule is written twice, in Python
(domain/reviewer_routing.py, which says why) and in the lease query (db/reviews.py, which acts);
this checks on generated people and projects that the two agree."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cohort_qa.config import QASettings
from cohort_qa.db import projects as projects_repo
from cohort_qa.db import reviewer_profiles
from cohort_qa.db import reviews as reviews_repo
from cohort_qa.domain.projects import DataKind, QaProject
from cohort_qa.domain.reviewer_routing import ReviewerProfile, ineligibility
from cohort_runtime.testing import SyncDatabase

PERSON_FIELDS = ["chemistry", "chemistry.organic", "chemistry.inorganic", "physics.classical", "biology"]
PROJECT_FIELDS = ["chemistry", "chemistry.organic", "physics", "biology.genetics"]
LANGUAGES = ["en", "de", "fr"]


@pytest.fixture(scope="module")
def harness(database_url):
    db = SyncDatabase(
        database_url, f"qa_rules_{uuid.uuid4().hex[:10]}", "qa", QASettings.model_fields["migrations_dir"].default
    )
    yield db
    db.close()


def subsets(items: list[str]) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(items), unique=True, max_size=3).map(tuple)


async def _open_review(pool, project: QaProject) -> None:
    """The project stored, with one submission by someone else waiting for its deciding review."""
    sid = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await projects_repo.upsert(conn, project)
        await conn.execute(
            """INSERT INTO submissions (submission_id, project_id, task_id, expert_id, payload, is_gold,
                                        active_seconds, submit_time, state)
               VALUES ($1, $2, 't0', 'exp_labeller', '', false, 60, now(), 'in_review')""",
            sid,
            project.project_id,
        )
        await conn.execute(
            """INSERT INTO reviews (review_id, submission_id, project_id, task_id, slot, reasons, state)
               VALUES ($1, $2, $3, 't0', 0, '{sampled}', 'open')""",
            uuid.uuid4(),
            sid,
            project.project_id,
        )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    degree=st.integers(0, 4),
    fields=subsets(PERSON_FIELDS),
    languages=subsets(LANGUAGES),
    walled=st.booleans(),
    reviewer=st.booleans(),
    active=st.booleans(),
    min_degree=st.integers(0, 4),
    required_fields=subsets(PROJECT_FIELDS),
    required_languages=st.lists(st.sampled_from(LANGUAGES), unique=True, max_size=2).map(tuple),
)
def test_leasing_agrees_with_the_reviewer_routing_rule(
    harness, degree, fields, languages, walled, reviewer, active, min_degree, required_fields, required_languages
):
    lab = uuid.uuid4()
    project = QaProject(
        project_id=uuid.uuid4(), lab_id=lab, kind=DataKind.SFT, domain="chemistry.organic", overlap=1,
        max_overlap=1, review_sample_rate=1.0, minimum_quality=0.0,
        min_degree=min_degree, fields=required_fields, languages=required_languages,
    )  # fmt: skip
    person = f"exp_{uuid.uuid4().hex[:12]}"
    profile = ReviewerProfile(
        person, degree, fields, languages, (lab,) if walled else (uuid.uuid4(),), reviewer, active
    )
    harness.run(_open_review(harness.pool, project))

    async def lease():
        async with harness.pool.acquire() as conn, conn.transaction():
            await reviewer_profiles.upsert(conn, profile, dt.datetime.now(dt.UTC))
            return await reviews_repo.lease_next(
                conn, person, project.project_id, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5), 0.8, 5, 0.7, 10
            )

    why_not = ineligibility(profile, project.review_requirements())
    assert (harness.run(lease()) is not None) == (why_not is None), why_not


def test_no_profile_no_reviews(harness):
    project = QaProject(
        project_id=uuid.uuid4(), lab_id=uuid.uuid4(), kind=DataKind.SFT, domain="chemistry.organic", overlap=1,
        max_overlap=1, review_sample_rate=1.0, minimum_quality=0.0,
    )  # fmt: skip
    harness.run(_open_review(harness.pool, project))

    async def lease():
        async with harness.pool.acquire() as conn, conn.transaction():
            return await reviews_repo.lease_next(
                conn, "exp_unknown", project.project_id, dt.datetime.now(dt.UTC), 0.8, 5, 0.7, 10
            )

    assert harness.run(lease()) is None and ineligibility(None, project.review_requirements()) is not None


def test_a_late_older_profile_change_changes_nothing(harness):
    now = dt.datetime.now(dt.UTC)
    newer = ReviewerProfile("exp_late", 4, ("chemistry",), ("en",), (), True, False)
    older = ReviewerProfile("exp_late", 4, ("chemistry",), ("en",), (), True, True)

    async def apply():
        async with harness.pool.acquire() as conn, conn.transaction():
            await reviewer_profiles.upsert(conn, newer, now)
            await reviewer_profiles.upsert(conn, older, now - dt.timedelta(seconds=5))  # redelivered late
            return await reviewer_profiles.get(conn, "exp_late")

    assert harness.run(apply()) == newer
