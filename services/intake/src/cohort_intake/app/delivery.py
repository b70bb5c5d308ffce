"""What other services tell intake (submissions, verdicts, items, spend) and what labs read of it.

Handlers run inside the inbox transaction of their event. Events about projects or tasks intake
does not know are ignored (logged): they cannot be about a lab's data.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import Counter, defaultdict
from dataclasses import replace

import asyncpg

from cohort_intake.app import audits, webhooks
from cohort_intake.db import progress as repo
from cohort_intake.db import projects as projects_repo
from cohort_intake.db import pseudonyms as pseudonyms_repo
from cohort_intake.db import tasks as tasks_repo
from cohort_intake.domain.items import FinalizedItem, render
from cohort_intake.domain.progress import BUDGET_PAUSE_REASON, Counters
from cohort_intake.domain.projects import Project, ProjectState, Transition
from cohort_intake.domain.webhooks import EventType, cost_step_crossed, milestones_crossed
from cohort_intake.events import project_events
from cohort_intake.events.topics import PROJECTS_TOPIC
from cohort_runtime import add_event
from cohort_runtime.domain_errors import NotFoundError
from cohort_runtime.pseudonyms import LabView

log = logging.getLogger(__name__)


# The handlers below are set-based: a batch of one fetch's consecutive events of one type in
# one call, one statement per project for what they change. Handled one by one, intake fell tens of
# thousands of items behind in the platform benchmark.


async def _known(conn: asyncpg.Connection, project_ids: set[uuid.UUID], what: str) -> set[uuid.UUID]:
    known = await projects_repo.existing(conn, sorted(project_ids))
    for project_id in sorted(project_ids - known):
        log.warning("%s for unknown project %s ignored", what, project_id)
    return known


async def submissions_created(conn: asyncpg.Connection, submissions: list[tuple[uuid.UUID, str]]) -> None:
    """(project, task) per submission: counts received submissions and tasks with a first one."""
    by_project: dict[uuid.UUID, list[str]] = defaultdict(list)
    for project_id, task_id in submissions:
        by_project[project_id].append(task_id)
    for project_id in sorted(await _known(conn, set(by_project), "submission")):
        task_ids = by_project[project_id]
        first_ones = await repo.mark_tasks_submitted(conn, project_id, task_ids)
        await repo.add(conn, project_id, {"submissions_received": len(task_ids), "tasks_with_submission": first_ones})


async def submissions_decided(conn: asyncpg.Connection, verdicts: list[tuple[uuid.UUID, bool]]) -> None:
    """(project, accepted) per verdict."""
    by_project: dict[uuid.UUID, Counter[bool]] = defaultdict(Counter)
    for project_id, accepted in verdicts:
        by_project[project_id][accepted] += 1
    for project_id in sorted(await _known(conn, set(by_project), "verdict")):
        counts = by_project[project_id]
        await repo.add(conn, project_id, {"submissions_accepted": counts[True], "submissions_rejected": counts[False]})


async def items_finalized(conn: asyncpg.Connection, items: list[FinalizedItem], lab_view: LabView) -> int:
    """Store the rendered items (returns how many were new); complete a project at its target.
    Expert ids are rendered as the project's lab sees them (`lab_view`): a pseudonym of that lab's
    own for each expert, recorded so that an operator can map it back."""
    by_project: dict[uuid.UUID, list[FinalizedItem]] = defaultdict(list)
    for item in {i.item_id: i for i in items}.values():  # an item re-sent within the batch: once
        by_project[item.project_id].append(item)
    now = dt.datetime.now(dt.UTC)
    new = 0
    for project_id in sorted(by_project):
        project = await projects_repo.get_internal(conn, project_id, for_update=True)
        if project is None:
            log.warning("%d items for unknown project %s ignored", len(by_project[project_id]), project_id)
            continue
        tasks = await tasks_repo.get_many(conn, project_id, sorted({i.task_id for i in by_project[project_id]}))
        rendered = []
        shown: dict[str, str] = {}
        for item in by_project[project_id]:
            task = tasks.get(item.task_id)
            if task is None:
                log.warning("item %s for unknown task %s ignored", item.item_id, item.task_id)
                continue
            pairs = lab_view.pairs(project.lab_id, item.expert_ids)
            shown.update(pairs)
            pseudonyms = tuple(p for p, _e in pairs)
            # A result that does not fit its task raises UnrenderableItem: the batch is settled one
            # by one, and that item is retried, then dead-lettered.
            rendered.append((item, render(replace(item, expert_ids=pseudonyms), task.input)))
        await pseudonyms_repo.record(conn, project.lab_id, sorted(shown.items()))
        stored = await repo.insert_items(
            conn, project_id, [(i.item_id, i.task_id, r, i.revision, i.supersedes) for i, r in rendered], now
        )
        new_items = [i for i, _ in rendered if i.item_id in stored]
        new += len(new_items)
        # A rework replaces an item the lab has counted already: not another item toward the target.
        reworks = [i for i in new_items if i.supersedes is not None]
        await audits.rework_delivered(conn, project, reworks, now)
        await _announce_superseded(conn, project, reworks, now)
        fresh = [i for i in new_items if i.supersedes is None]
        if not fresh:
            continue
        delivered = await repo.record_items(
            conn,
            project_id,
            len(fresh),
            sum(i.quality.agreement for i in fresh),
            sum(i.quality.confidence for i in fresh),
        )
        await _announce_items(conn, project, [i.item_id for i in fresh], delivered, now)
        if delivered >= project.spec.target_accepted_items and project.state in (
            ProjectState.ACTIVE,
            ProjectState.PAUSED,
        ):
            await _move(conn, project, Transition.COMPLETE, "", now)
    return new


async def _announce_superseded(
    conn: asyncpg.Connection, project: Project, reworks: list[FinalizedItem], now: dt.datetime
) -> None:
    """item.superseded for every rework delivered, audited or not: QA also reworks items that rested
    on experts it suspended after delivering them, which no audit of the lab's names."""
    if reworks:
        data = [
            {"project_id": str(project.project_id), "item_id": str(i.item_id), "task_id": i.task_id,
             "supersedes_item_id": str(i.supersedes), "revision": i.revision}
            for i in reworks
        ]  # fmt: skip
        await webhooks.announce(conn, project.lab_id, EventType.ITEM_SUPERSEDED, data, now)


async def _announce_items(
    conn: asyncpg.Connection, project: Project, item_ids: list[uuid.UUID], delivered: int, now: dt.datetime
) -> None:
    """items.delivered for the batch, and project.milestone for each quarter of the target reached."""
    target = project.spec.target_accepted_items
    pid = str(project.project_id)
    batch = {"project_id": pid, "item_ids": [str(i) for i in item_ids], "items_delivered": delivered, "target": target}
    await webhooks.announce(conn, project.lab_id, EventType.ITEMS_DELIVERED, [batch], now)
    reached = milestones_crossed(delivered - len(item_ids), delivered, target)
    if reached:
        data = [{"project_id": pid, "percent": m, "items_delivered": delivered, "target": target} for m in reached]
        await webhooks.announce(conn, project.lab_id, EventType.PROJECT_MILESTONE, data, now)


async def spend_updated(
    conn: asyncpg.Connection,
    project_id: uuid.UUID,
    committed: int,
    spent: int,
    cap_reached: bool,
    as_of: dt.datetime,
) -> None:
    project = await projects_repo.get_internal(conn, project_id, for_update=True)
    if project is None:
        log.warning("spend for unknown project %s ignored", project_id)
        return
    before = await repo.record_spend(conn, project_id, committed, spent, as_of)
    if before is None:
        return
    now = dt.datetime.now(dt.UTC)
    cap = project.spec.budget_cap_minor
    if cost_step_crossed(before, spent, cap):
        data = {"project_id": str(project_id), "spent_minor": spent, "committed_minor": committed,
                "budget_cap_minor": cap, "currency_code": project.spec.currency_code}  # fmt: skip
        await webhooks.announce(conn, project.lab_id, EventType.PROJECT_COST_UPDATED, [data], now)
    if cap_reached and project.state is ProjectState.ACTIVE:
        await _move(conn, project, Transition.PAUSE, BUDGET_PAUSE_REASON, now)


async def _move(conn: asyncpg.Connection, project: Project, what: Transition, reason: str, now: dt.datetime) -> None:
    """A transition the platform makes on its own (completion, a budget pause), announced to the lab."""
    changed = project.apply(what, now, reason)
    await projects_repo.update(conn, changed)
    key, message = project_events.for_transition(changed, what, reason, now)
    await add_event(conn, topic=PROJECTS_TOPIC, key=key, message=message)
    await repo.notify(conn, project.project_id)
    event = EventType.PROJECT_COMPLETED if what is Transition.COMPLETE else EventType.PROJECT_PAUSED
    data = {"project_id": str(project.project_id), "state": changed.state.value, "reason": reason}
    await webhooks.announce(conn, project.lab_id, event, [data], now)


async def progress(pool: asyncpg.Pool, lab_id: uuid.UUID, project_id: uuid.UUID) -> tuple[Project, Counters]:
    async with pool.acquire() as conn:
        project = await projects_repo.get(conn, lab_id, project_id)
        counters = await repo.get(conn, project_id) if project else None
    if project is None or counters is None:
        raise NotFoundError("project", str(project_id))
    return project, counters


async def export_page(
    pool: asyncpg.Pool,
    lab_id: uuid.UUID,
    project_id: uuid.UUID,
    after_seq: int | None,
    delivered_after: dt.datetime | None,
    delivered_before: dt.datetime | None,
    item_ids: list[uuid.UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        if await projects_repo.get(conn, lab_id, project_id) is None:
            raise NotFoundError("project", str(project_id))
        return await repo.items_page(conn, project_id, after_seq, delivered_after, delivered_before, item_ids, limit)


async def resolve_pseudonym(pool: asyncpg.Pool, lab_id: uuid.UUID, pseudonym: str) -> str:
    """The expert behind a pseudonym lab `lab_id` was shown; NotFoundError if it never was."""
    async with pool.acquire() as conn:
        expert_id = await pseudonyms_repo.resolve(conn, lab_id, pseudonym)
    if expert_id is None:
        raise NotFoundError("expert pseudonym", pseudonym)
    return expert_id


async def screening_finished(
    conn: asyncpg.Connection,
    project_id: uuid.UUID,
    expert_id: str,
    passed: bool,
    correct: int,
    answered: int,
    lab_view: LabView,
    now: dt.datetime,
) -> None:
    """Announce QA's decision on an expert's screening test to the project's lab, the expert by
    that lab's pseudonym (recorded, so an operator can map it back); no key, no id."""
    project = await projects_repo.get_internal(conn, project_id)
    if project is None:
        log.warning("screening decision for unknown project %s ignored", project_id)
        return
    pairs = lab_view.pairs(project.lab_id, [expert_id])
    await pseudonyms_repo.record(conn, project.lab_id, pairs)
    data = {"project_id": str(project_id), "expert": pairs[0][0] if pairs else None, "passed": passed,
            "correct": correct, "answered": answered}  # fmt: skip
    await webhooks.announce(conn, project.lab_id, EventType.SCREENING_FINISHED, [data], now)
