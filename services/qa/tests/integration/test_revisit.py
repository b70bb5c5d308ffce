"""Delivered items revisited when experts are suspended, on a real PostgreSQL and Kafka: an item
that rested on the suspended experts is reworked once, one that stands without them is not."""

from __future__ import annotations

import json
import uuid

from prometheus_client import CollectorRegistry

from cohort.events.v1 import items_pb2, quality_pb2
from cohort.qa.v1 import quality_pb2 as quality_api
from cohort_qa.app.revisit import revisit_pending
from cohort_qa.events.outgoing import item_id
from cohort_qa.metrics import QaMetrics

from .conftest import pref


async def _answer(qa, pid: str, task: str, answers: dict[str, tuple[str, ...]], revision: int = 0) -> None:
    for expert, ranking in answers.items():
        await qa.state(await qa.submit(pid, task, expert, pref(*ranking), task_revision=revision), "accepted")


async def _report(qa, pid: str) -> quality_api.ProjectQuality:
    request = quality_api.GetProjectQualityRequest(project_id=pid)
    return (await qa.quality.GetProjectQuality(request, metadata=qa.operator)).quality


async def test_an_item_a_suspended_pair_decided_is_reworked_once(qa) -> None:
    pid = await qa.project("preference", tasks=3, overlap=3, max_overlap=3)
    project = uuid.UUID(pid)
    await _answer(qa, pid, "t0", {"c1": ("b", "a"), "c2": ("b", "a"), "e1": ("a", "b")})  # the pair outvotes e1
    await _answer(qa, pid, "t1", {"c1": ("a", "b"), "e1": ("a", "b"), "e2": ("a", "b")})  # e1 and e2 agree
    await _answer(qa, pid, "t2", {"e1": ("a", "b"), "e2": ("a", "b"), "e3": ("a", "b")})  # no suspect at all
    await qa.until(lambda: qa.pool.fetchval("SELECT count(*) = 3 FROM items WHERE project_id = $1", project), "items")
    delivered = await qa.pool.fetchval("SELECT result FROM items WHERE project_id = $1 AND task_id = 't0'", project)
    assert json.loads(delivered) == {"ranking": ["b", "a"]}, "QA records what each item delivered"

    # Suspended (as the refit's collusion test does) long enough ago for the pass to take them.
    await qa.pool.executemany(
        """INSERT INTO project_suspensions (expert_id, project_id, reasons, as_of)
           VALUES ($1, $2, '{collusion_suspected}', now() - interval '1 minute')""",
        [("c1", project), ("c2", project)],
    )
    assert (await _report(qa, pid)).revisits_pending == 2
    registry = CollectorRegistry()
    metrics = QaMetrics(registry)

    assert await revisit_pending(qa.pool, metrics) == 1
    assert await revisit_pending(qa.pool, metrics) == 0, "each suspension is revisited once"

    (rework,) = await qa.published(quality_pb2.ReworkRequested)
    assert (rework.task_id, rework.revision, rework.judgments) == ("t0", 2, 3)
    assert rework.item_id == str(item_id(project, "t0", 1))
    report = await _report(qa, pid)
    assert (report.reworks_open, report.revisits_pending) == (1, 0)
    assert registry.get_sample_value("qa_items_reworked_total", {"reason": "suspension"}) == 1

    # The rework's answers alone make the new item, which supersedes the old one.
    await _answer(qa, pid, "t0", {"e3": ("a", "b"), "e4": ("a", "b"), "e5": ("a", "b")}, revision=2)
    await qa.until(lambda: qa.pool.fetchval("SELECT count(*) = 4 FROM items WHERE project_id = $1", project), "rework")
    reworked = [i for i in await qa.published(items_pb2.ItemFinalized) if i.revision == 2]
    assert [(i.task_id, list(i.preference.ranking), i.supersedes_item_id) for i in reworked] == [
        ("t0", ["a", "b"], str(item_id(project, "t0", 1)))
    ]
    assert sorted(reworked[0].expert_ids) == ["e3", "e4", "e5"]
    assert (await _report(qa, pid)).reworks_open == 0


async def test_a_cancelled_project_is_not_reworked(qa) -> None:
    pid = await qa.project("preference", tasks=1, overlap=3, max_overlap=3)
    project = uuid.UUID(pid)
    await _answer(qa, pid, "t0", {"c1": ("b", "a"), "c2": ("b", "a"), "e1": ("a", "b")})
    await qa.until(lambda: qa.pool.fetchval("SELECT count(*) = 1 FROM items WHERE project_id = $1", project), "item")
    await qa.pool.execute("UPDATE projects SET state = 'cancelled' WHERE project_id = $1", project)
    await qa.pool.execute(
        """INSERT INTO project_suspensions (expert_id, project_id, reasons, as_of)
           VALUES ('c1', $1, '{collusion_suspected}', now() - interval '1 minute')""",
        project,
    )
    assert await revisit_pending(qa.pool, QaMetrics(CollectorRegistry())) == 0
    assert await qa.published(quality_pb2.ReworkRequested) == []
    assert (await _report(qa, pid)).revisits_pending == 0, "looked at, and left as the lab stopped it"
