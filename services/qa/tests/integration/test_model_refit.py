"""The per-project Dawid-Skene refit over judgments QA accepted, on a real PostgreSQL."""

from __future__ import annotations

import uuid

import numpy as np
from prometheus_client import CollectorRegistry

from cohort_qa.app.models import refit
from cohort_qa.db import models as repo
from cohort_qa.metrics import QaMetrics

from .conftest import pref


async def test_a_refit_learns_each_experts_confusion_from_the_judged_tasks(qa) -> None:
    # Far more tasks than have judgments, as in a project early in its run.
    pid = await qa.project("preference", tasks=40, overlap=3)
    ids = []
    for i in range(8):
        ids.append(await qa.submit(pid, f"t{i}", "steady-1", pref("a", "b")))
        ids.append(await qa.submit(pid, f"t{i}", "steady-2", pref("a", "b")))
        ids.append(await qa.submit(pid, f"t{i}", "contrary", pref("b", "a")))
    for sid in ids:
        assert await qa.state(sid, "accepted", "rejected") == "accepted"

    used = await refit(qa.pool, uuid.UUID(pid), QaMetrics(CollectorRegistry()))

    assert used == 24
    async with qa.pool.acquire() as conn:
        priors, confusion = await repo.get(conn, uuid.UUID(pid), ["contrary", "steady-1", "steady-2"])
    assert priors is not None and priors.shape == (2,) and abs(priors.sum() - 1) < 1e-9
    assert sorted(confusion) == ["contrary", "steady-1", "steady-2"]
    for matrix in confusion.values():
        assert matrix.shape == (2, 2) and np.allclose(matrix.sum(axis=1), 1)
    # The majority says the first candidate is better: the steady pair agree with it on the diagonal,
    # the contrary expert's mass sits off it.
    assert np.trace(confusion["steady-1"]) > 1.5 and np.trace(confusion["steady-2"]) > 1.5
    assert np.trace(confusion["contrary"]) < 0.5


async def test_a_refit_of_a_project_without_judgments_saves_nothing(qa) -> None:
    pid = await qa.project("preference", tasks=5, overlap=1)
    assert await refit(qa.pool, uuid.UUID(pid), QaMetrics(CollectorRegistry())) == 0
    assert await qa.pool.fetchval("SELECT count(*) FROM project_models WHERE project_id = $1", uuid.UUID(pid)) == 0
