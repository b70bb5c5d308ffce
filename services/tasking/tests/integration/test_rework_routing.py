"""Reopening a task for rework (QA's ReworkRequested) on a real PostgreSQL: slots of the new
revision beyond the maximum overlap, redeliveries and late items of an earlier revision changing
nothing, adaptive overlap counted per revision, and a completed project routed again only while
its rework is open."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from cohort.events.v1 import projects_pb2 as events
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import tasks_pb2 as ttypes
from cohort_runtime.testing import SyncDatabase
from cohort_tasking.app import catalog
from cohort_tasking.config import TaskingSettings
from cohort_tasking.domain.tasks import NewTask


@pytest.fixture(scope="module")
def harness(database_url):
    db = SyncDatabase(
        database_url,
        f"t_rework_{uuid.uuid4().hex[:10]}",
        "tasking",
        TaskingSettings.model_fields["migrations_dir"].default,
    )
    yield db
    db.close()


def _project(harness, max_overlap: int) -> uuid.UUID:
    pid = uuid.uuid4()
    m = events.ProjectActivated(
        project_id=str(pid), lab_id=str(uuid.uuid4()), data_kind=types.DATA_KIND_SFT_DEMONSTRATION,
        domain="chemistry.organic", overlap=1, max_overlap=max_overlap, priority=50,
    )  # fmt: skip
    m.deadline.FromDatetime(dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    m.lease_duration.FromTimedelta(dt.timedelta(minutes=10))
    task = NewTask("t0", ttypes.TaskInput(prompt="p").SerializeToString(), False)
    harness.transaction(catalog.tasks_added, pid, [task])
    harness.transaction(catalog.project_activated, m)
    return pid


def _slots(harness, pid: uuid.UUID) -> dict[int, tuple[int, int]]:
    """Per revision: (slots, open slots)."""
    rows = harness.run(
        harness.pool.fetch(
            "SELECT revision, count(*) AS n, count(*) FILTER (WHERE open) AS o FROM slots WHERE project_id = $1 "
            "GROUP BY revision",
            pid,
        )
    )
    return {r["revision"]: (r["n"], r["o"]) for r in rows}


def _state(harness, pid: uuid.UUID) -> str:
    return harness.run(harness.pool.fetchval("SELECT state FROM projects WHERE project_id = $1", pid))


def test_rework_opens_slots_of_its_revision_beyond_the_maximum_overlap(harness):
    pid = _project(harness, max_overlap=1)
    harness.transaction(catalog.items_finalized, [(pid, "t0", 1)])
    assert _slots(harness, pid) == {1: (1, 0)}

    harness.transaction(catalog.rework_requested, pid, "t0", 2, 2)
    assert _slots(harness, pid) == {1: (1, 0), 2: (2, 2)}, "two more although the maximum overlap is 1"
    harness.transaction(catalog.rework_requested, pid, "t0", 2, 2)  # a redelivered request
    assert _slots(harness, pid) == {1: (1, 0), 2: (2, 2)}

    harness.transaction(catalog.items_finalized, [(pid, "t0", 1)])  # revision 1's item, late
    assert _slots(harness, pid)[2] == (2, 2), "an earlier revision's item leaves the rework open"
    harness.transaction(catalog.items_finalized, [(pid, "t0", 2)])
    assert _slots(harness, pid)[2] == (2, 0)


def test_adaptive_overlap_counts_the_current_revision_only(harness):
    pid = _project(harness, max_overlap=3)
    harness.transaction(catalog.items_finalized, [(pid, "t0", 1)])
    harness.transaction(catalog.rework_requested, pid, "t0", 2, 2)

    async def more(conn):
        return await catalog.extra_judgments(conn, pid, "t0", 5)

    harness.transaction(more)
    assert _slots(harness, pid)[2] == (3, 3), "up to the maximum overlap within revision 2"


def test_a_completed_project_is_routed_again_only_while_its_rework_is_open(harness):
    pid = _project(harness, max_overlap=1)
    harness.transaction(catalog.items_finalized, [(pid, "t0", 1)])
    harness.transaction(catalog.project_state, pid, "completed")
    assert _state(harness, pid) == "completed"

    harness.transaction(catalog.rework_requested, pid, "t0", 2, 1)
    assert _state(harness, pid) == "active"
    harness.transaction(catalog.project_state, pid, "completed")  # intake's completion, redelivered
    assert _state(harness, pid) == "active", "the rework still has to be routed"

    harness.transaction(catalog.items_finalized, [(pid, "t0", 2)])
    assert _state(harness, pid) == "completed"


def test_a_project_that_ends_closes_its_open_slots_but_not_a_held_rework(harness):
    cancelled = _project(harness, max_overlap=1)
    assert _slots(harness, cancelled) == {1: (1, 1)}
    harness.transaction(catalog.project_state, cancelled, "cancelled")
    assert _slots(harness, cancelled) == {1: (1, 0)}, "nobody leases a cancelled project's slots"

    held = _project(harness, max_overlap=1)
    harness.transaction(catalog.items_finalized, [(held, "t0", 1)])
    harness.transaction(catalog.rework_requested, held, "t0", 2, 2)
    harness.transaction(catalog.project_state, held, "completed")
    assert _slots(harness, held)[2] == (2, 2), "completed while its rework is open: the rework's slots stay"
    paused = _project(harness, max_overlap=1)
    harness.transaction(catalog.project_state, paused, "paused")
    assert _slots(harness, paused) == {1: (1, 1)}, "a paused project resumes with its slots"


def test_a_request_for_an_earlier_or_first_revision_changes_nothing(harness):
    pid = _project(harness, max_overlap=1)
    harness.transaction(catalog.items_finalized, [(pid, "t0", 1)])
    harness.transaction(catalog.rework_requested, pid, "t0", 1, 3)
    harness.transaction(catalog.rework_requested, pid, "t0", 3, 1)
    harness.transaction(catalog.rework_requested, pid, "t0", 2, 1)  # older than the task's revision 3 now
    assert _slots(harness, pid) == {1: (1, 0), 3: (1, 1)}
