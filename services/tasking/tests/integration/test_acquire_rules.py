"""The leasing function re-checks at the moment of leasing what the domain's routing rule decides
from a cached view (expert status, QA suspensions, quality in the domain against the project's
minimum, the project being active). The two are written twice, in Python and PL/pgSQL; this
checks on generated experts and projects that they agree."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cohort.events.v1 import projects_pb2 as events
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import tasks_pb2 as ttypes
from cohort_runtime.testing import SyncDatabase
from cohort_tasking.app import catalog
from cohort_tasking.config import TaskingSettings
from cohort_tasking.db import experts as experts_repo
from cohort_tasking.db import projects as projects_repo
from cohort_tasking.db import work as work_repo
from cohort_tasking.domain.routing import ineligibility
from cohort_tasking.domain.tasks import NewTask

DOMAIN = "chemistry.organic"


@pytest.fixture(scope="module")
def harness(database_url):
    db = SyncDatabase(
        database_url,
        f"t_rules_{uuid.uuid4().hex[:10]}",
        "tasking",
        TaskingSettings.model_fields["migrations_dir"].default,
    )
    yield db
    db.close()


async def _setup(pool, expert_id, status, quality, suspension, project_state):
    """A fresh project with one open slot and a fresh expert in the given standing."""
    pid = uuid.uuid4()
    m = events.ProjectActivated(
        project_id=str(pid), lab_id=str(uuid.uuid4()), data_kind=types.DATA_KIND_SFT_DEMONSTRATION, domain=DOMAIN,
        overlap=1, max_overlap=1, priority=50,
        rubric=types.Rubric(criteria=[types.RubricCriterion(name="q", weight=1, scale_min=1, scale_max=5)]),
    )  # fmt: skip
    m.deadline.FromDatetime(dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    m.lease_duration.FromTimedelta(dt.timedelta(minutes=10))
    now = dt.datetime.now(dt.UTC)
    async with pool.acquire() as conn, conn.transaction():
        await catalog.tasks_added(conn, pid, [NewTask("t0", ttypes.TaskInput(prompt="p").SerializeToString(), False)])
        await catalog.project_activated(conn, m)
        if project_state != "active":
            await projects_repo.set_state(conn, pid, project_state)
        await conn.execute(
            """INSERT INTO experts VALUES ($1, 4, '{chemistry}', '{}', '{en}', 'DE', 'UTC', 10, '{}', false,
               $2, $3, $3)""",
            expert_id, status, now,
        )  # fmt: skip
        if quality is not None:
            await conn.execute(
                "INSERT INTO expert_quality (expert_id, domain, mean, upper) VALUES ($1, $2, $3, $3)",
                expert_id, DOMAIN, quality,
            )  # fmt: skip
        if suspension is not None:
            scope = {"domain": f"domain:{DOMAIN}", "project": f"project:{pid}", "elsewhere": "domain:law"}[suspension]
            await conn.execute("INSERT INTO suspensions VALUES ($1, $2, '{quality}', $3)", expert_id, scope, now)
        project, _version = await projects_repo.get(conn, pid)
        expert = await experts_repo.get(conn, expert_id)
        suspended = frozenset(
            r["scope"] for r in await conn.fetch("SELECT scope FROM suspensions WHERE expert_id = $1", expert_id)
        )
    return project, expert, suspended


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    status=st.sampled_from(["active", "suspended", "offboarded"]),
    quality=st.none() | st.floats(0.0, 1.0),
    min_quality=st.floats(0.0, 1.0),
    suspension=st.sampled_from([None, "domain", "project", "elsewhere"]),
    project_state=st.sampled_from(["active", "active", "paused"]),
)
def test_leasing_agrees_with_the_routing_rule(harness, status, quality, min_quality, suspension, project_state):
    expert_id = f"exp_{uuid.uuid4().hex[:12]}"
    project, expert, suspended = harness.run(
        _setup(harness.pool, expert_id, status, quality, suspension, project_state)
    )
    project = dataclasses.replace(project, min_quality=min_quality)
    quality_by_domain = {DOMAIN: quality} if quality is not None else {}
    why_not = ineligibility(expert, frozenset(), quality_by_domain, project, suspended)

    async def lease():
        async with harness.pool.acquire() as conn, conn.transaction():
            return await work_repo.acquire_slot(
                conn, expert_id, [project], [False], uuid.uuid4(), dt.datetime.now(dt.UTC)
            )

    got = harness.run(lease())
    if status != "active":
        assert got.outcome == "inactive" and why_not == f"expert is {status}"
    elif project_state != "active":
        # Routing offers only active projects; the function must refuse one paused since.
        assert got.outcome == "none"
    else:
        assert (got.outcome == "leased") == (why_not is None), (got.outcome, why_not)
