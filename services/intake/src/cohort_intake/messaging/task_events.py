"""TasksAdded and GoldReferencesAdded, split so that no Kafka record exceeds its size budget."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from cohort.events.v1 import tasks_pb2 as events
from cohort_intake.domain.tasks import NewTask
from cohort_intake.mapping import gold_to_proto, task_input_to_proto

# Below the broker's and producer's 1 MB default, with room for headers and framing.
MAX_EVENT_BYTES = 512 * 1024


def tasks_added(project_id: uuid.UUID, tasks: list[NewTask]) -> Iterator[events.TasksAdded]:
    event = events.TasksAdded(project_id=str(project_id))
    for t in tasks:
        added = events.AddedTask(
            task_id=t.task_id, input=task_input_to_proto(t.input), is_gold=t.gold is not None
        )
        if event.tasks and event.ByteSize() + added.ByteSize() > MAX_EVENT_BYTES:
            yield event
            event = events.TasksAdded(project_id=str(project_id))
        event.tasks.append(added)
    if event.tasks:
        yield event


def gold_references_added(
    project_id: uuid.UUID, tasks: list[NewTask]
) -> Iterator[events.GoldReferencesAdded]:
    event = events.GoldReferencesAdded(project_id=str(project_id))
    for t in tasks:
        if t.gold is None:
            continue
        ref = events.GoldTaskReference(task_id=t.task_id, reference=gold_to_proto(t.gold))
        if event.references and event.ByteSize() + ref.ByteSize() > MAX_EVENT_BYTES:
            yield event
            event = events.GoldReferencesAdded(project_id=str(project_id))
        event.references.append(ref)
    if event.references:
        yield event
