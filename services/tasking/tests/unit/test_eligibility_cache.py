"""The per-expert eligibility cache: reuse within its time, drop on invalidation, and never store
a list computed while an invalidation happened. The two database reads are replaced by counters
(they are the only I/O); the domain rules run for real."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest

from cohort_tasking.app import eligibility
from cohort_tasking.db.experts import RoutingView
from cohort_tasking.domain.experts import Expert, ExpertStatus
from cohort_tasking.domain.routing import RoutingProject

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
PROJECT = RoutingProject(
    project_id=uuid.uuid4(),
    lab_id=uuid.uuid4(),
    data_kind=2,
    domain="chemistry.organic",
    min_degree=0,
    fields=(),
    languages=(),
    cohort_ids=(),
    min_quality=0.0,
    overlap=1,
    max_overlap=1,
    gold_rate=0.0,
    priority=1,
    deadline=NOW + dt.timedelta(days=1),
    lease=dt.timedelta(minutes=5),
    per_expert_task_cap=0,
    per_task_cap_seconds=0,
    rubric=(),
)
EXPERT = Expert(
    expert_id="exp_cache01",
    degree=4,
    fields=("chemistry",),
    skills=(),
    languages=("en",),
    country="DE",
    timezone="UTC",
    weekly_hours=10,
    blocked_lab_ids=(),
    reviewer=False,
    status=ExpertStatus.ACTIVE,
    create_time=NOW,
)


class Reads:
    def __init__(self) -> None:
        self.views = 0
        self.actives = 0
        self.during_view = None  # called while the expert's view is being read

    async def routing_view(self, _conn, _expert_id):
        self.views += 1
        if self.during_view:
            self.during_view()
        return RoutingView(EXPERT, frozenset(), {}, frozenset(), frozenset())

    async def active(self, _conn):
        self.actives += 1
        return [PROJECT]


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    r = Reads()
    monkeypatch.setattr(eligibility.experts_repo, "routing_view", r.routing_view)
    monkeypatch.setattr(eligibility.projects_repo, "active", r.active)
    return r


def test_reused_within_its_time_and_read_again_after(reads: Reads) -> None:
    clock = [0.0]
    cache = eligibility.EligibilityCache(1.0, clock=lambda: clock[0])
    assert asyncio.run(cache.projects(None, EXPERT.expert_id)) == [PROJECT]
    asyncio.run(cache.projects(None, EXPERT.expert_id))
    assert (reads.views, reads.actives) == (1, 1)
    clock[0] = 1.5
    asyncio.run(cache.projects(None, EXPERT.expert_id))
    assert (reads.views, reads.actives) == (2, 2)


def test_forget_and_clear_drop_at_once(reads: Reads) -> None:
    cache = eligibility.EligibilityCache(60.0, clock=lambda: 0.0)
    asyncio.run(cache.projects(None, EXPERT.expert_id))
    cache.forget(EXPERT.expert_id)
    asyncio.run(cache.projects(None, EXPERT.expert_id))
    assert (reads.views, reads.actives) == (2, 1), "forgetting an expert keeps the shared project list"
    cache.clear()
    asyncio.run(cache.projects(None, EXPERT.expert_id))
    assert (reads.views, reads.actives) == (3, 2)


def test_a_list_computed_across_an_invalidation_is_not_kept(reads: Reads) -> None:
    cache = eligibility.EligibilityCache(60.0, clock=lambda: 0.0)
    reads.during_view = lambda: cache.forget(EXPERT.expert_id)
    asyncio.run(cache.projects(None, EXPERT.expert_id))
    reads.during_view = None
    asyncio.run(cache.projects(None, EXPERT.expert_id))
    assert reads.views == 2, "the first list may predate the change: read again"


def test_ttl_zero_never_keeps_anything(reads: Reads) -> None:
    cache = eligibility.EligibilityCache(0.0, clock=lambda: 0.0)
    for _ in range(3):
        asyncio.run(cache.projects(None, EXPERT.expert_id))
    assert (reads.views, reads.actives) == (3, 3)
