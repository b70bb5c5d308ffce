"""Handlers of the events tasking consumes; each runs inside its inbox transaction."""

from __future__ import annotations

import uuid

import asyncpg

from cohort.events.v1 import labs_pb2 as events
from cohort_runtime import Event, EventRouter
from cohort_tasking.app.labs import record_lab
from cohort_tasking.domain.labs import KnownLab


async def on_lab_created(conn: asyncpg.Connection, event: Event[events.LabCreated]) -> None:
    msg = event.message
    await record_lab(
        conn,
        KnownLab(
            lab_id=uuid.UUID(msg.lab_id),
            display_name=msg.display_name,
            create_time=msg.create_time.ToDatetime(tzinfo=event.time.tzinfo),
        ),
    )


def router() -> EventRouter:
    r = EventRouter()
    r.on(events.LabCreated, on_lab_created)
    return r
