"""TasksAdded and GoldReferencesAdded, split so that no Kafka record exceeds its size budget."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from typing import TypeVar

from google.protobuf.message import Message

from cohort.events.v1 import tasks_pb2 as events
from cohort_intake.domain.tasks import NewTask
from cohort_intake.mapping import gold_to_proto, task_input_to_proto

# Below the broker's and producer's 1 MB default, with room for headers and framing.
MAX_EVENT_BYTES = 512 * 1024
# A repeated field's element costs its own size plus a tag and a length prefix (<= 1 + 5 bytes).
_FRAMING = 6

M = TypeVar("M", bound=Message)


def _chunks(parts: Iterable[M], budget: int) -> Iterator[list[M]]:
    """Consecutive runs of `parts` whose encoded size stays within `budget` (a lone oversized part
    still forms a run). Sizes are summed as parts are taken: asking a growing message for its
    ByteSize() each time is quadratic."""
    run: list[M] = []
    size = 0
    for part in parts:
        part_size = part.ByteSize() + _FRAMING
        if run and size + part_size > budget:
            yield run
            run, size = [], 0
        run.append(part)
        size += part_size
    if run:
        yield run


def tasks_added(project_id: uuid.UUID, tasks: list[NewTask]) -> Iterator[events.TasksAdded]:
    header = events.TasksAdded(project_id=str(project_id)).ByteSize()
    added = (
        events.AddedTask(
            task_id=t.task_id,
            input=task_input_to_proto(t.input),
            is_gold=t.gold is not None,
            is_screening=t.screening,
        )
        for t in tasks
    )
    for run in _chunks(added, MAX_EVENT_BYTES - header):
        yield events.TasksAdded(project_id=str(project_id), tasks=run)


def gold_references_added(project_id: uuid.UUID, tasks: list[NewTask]) -> Iterator[events.GoldReferencesAdded]:
    header = events.GoldReferencesAdded(project_id=str(project_id)).ByteSize()
    references = (
        events.GoldTaskReference(task_id=t.task_id, reference=gold_to_proto(t.gold))
        for t in tasks
        if t.gold is not None
    )
    for run in _chunks(references, MAX_EVENT_BYTES - header):
        yield events.GoldReferencesAdded(project_id=str(project_id), references=run)
