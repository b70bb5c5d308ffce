"""Qualification screening: score each screening answer against its gold reference and decide
the expert's test once they have answered enough; routing learns the decision by event.

Answers may arrive before QA knows the project or the task's gold (other topics, no mutual
order): they are stored unscored and scored when both are known.
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from cohort.types.v1 import submissions_pb2
from cohort_qa.db import projects as projects_repo
from cohort_qa.db import screening as repo
from cohort_qa.domain import screening
from cohort_qa.domain.work import NewSubmission
from cohort_qa.events import outgoing, payloads
from cohort_runtime import add_events


async def answers_received(conn: asyncpg.Connection, subs: list[NewSubmission]) -> None:
    if not subs:
        return
    await repo.insert_answers(conn, subs)
    for project_id in sorted({s.project_id for s in subs}):
        await score_waiting(conn, project_id)


async def score_waiting(conn: asyncpg.Connection, project_id: uuid.UUID) -> None:
    """Score the project's answers whose gold is known; decide the experts who answered enough."""
    project = await projects_repo.get(conn, project_id)
    if project is None:
        return  # scored when ProjectActivated arrives
    if project.screening_tasks <= 0:
        return  # no test (every gold batch of every project comes here)
    waiting = await repo.scorable(conn, project_id)
    if not waiting:
        return
    scores = []
    for a in waiting:
        reference = payloads.gold_reference(a.gold)
        answer = payloads.answer(submissions_pb2.SubmissionPayload.FromString(a.payload))
        scores.append((a.submission_id, reference is not None and screening.is_right(answer, reference, project)))
    await repo.record_scores(conn, scores)
    decided = [
        result
        for expert_id, right, scored in await repo.tallies_undecided(
            conn, project_id, sorted({a.expert_id for a in waiting})
        )
        if (result := screening.decide(project, expert_id, right, scored)) is not None
    ]
    if decided:
        now = dt.datetime.now(dt.UTC)
        await repo.record_decisions(conn, decided, now)
        await add_events(conn, [outgoing.qualification_decided(r, now) for r in decided])
