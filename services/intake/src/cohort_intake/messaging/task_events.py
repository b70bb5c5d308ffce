"""TasksAdded and GoldReferencesAdded, split so that no Kafka record exceeds its size budget."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from cohort.events.v1 import tasks_pb2 as events
from cohort_intake.domain.tasks import NewTask
from cohort_intake.mapping import gold_to_proto, task_input_to_proto

# Below the broker's and producer's 1 MB default, with room for headers and framing.
MAX_EVENT_BYTES = 512 * 1024
# A repeated field's element costs its own size plus a tag and a length prefix (<= 1 + 5 bytes).
_FRAMING = 6


def tasks_added(project_id: uuid.UUID, tasks: list[NewTask]) -> Iterator[events.TasksAdded]:
    # Sizes are summed as we go: asking the growing message for its ByteSize() each time is quadratic.
    event = events.TasksAdded(project_id=str(project_id))
    size = event.ByteSize()
    for t in tasks:
        added = events.AddedTask(
            task_id=t.task_id, input=task_input_to_proto(t.input), is_gold=t.gold is not None
        )
        added_size = added.ByteSize() + _FRAMING
        if event.tasks and size + added_size > MAX_EVENT_BYTES:
            yield event
            event = events.TasksAdded(project_id=str(project_id))
            size = event.ByteSize()
        event.tasks.append(added)
        size += added_size
    if event.tasks:
        yield event


def gold_references_added(
    project_id: uuid.UUID, tasks: list[NewTask]
) -> Iterator[events.GoldReferencesAdded]:
    event = events.GoldReferencesAdded(project_id=str(project_id))
    size = event.ByteSize()
    for t in tasks:
        if t.gold is None:
            continue
        ref = events.GoldTaskReference(task_id=t.task_id, reference=gold_to_proto(t.gold))
        ref_size = ref.ByteSize() + _FRAMING
        if event.references and size + ref_size > MAX_EVENT_BYTES:
            yield event
            event = events.GoldReferencesAdded(project_id=str(project_id))
            size = event.ByteSize()
        event.references.append(ref)
        size += ref_size
    if event.references:
        yield event
