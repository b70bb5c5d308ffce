"""Onboarding labs."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from cohort.events.v1 import labs_pb2 as events
from cohort_intake.db import labs as repo
from cohort_intake.domain.labs import Lab, NewLab
from cohort_intake.events.topics import LABS_TOPIC
from cohort_runtime import add_event
from cohort_runtime.domain_errors import Conflict, NotFoundError
from cohort_runtime.fields import timestamp


async def create_lab(pool: asyncpg.Pool, new: NewLab) -> Lab:
    """Create the lab and publish LabCreated, or return the lab a retry of this request made."""
    async with pool.acquire() as conn, conn.transaction():
        # Serialise concurrent retries of one request_id: the second waits, then sees the first.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"lab-request:{new.request_id}")
        previous = await repo.find_by_request(conn, new.request_id)
        if previous is not None:
            lab, fingerprint = previous
            if fingerprint != new.fingerprint():
                raise Conflict(f"request_id {new.request_id} was already used for a different lab")
            return lab
        lab = Lab(lab_id=uuid.uuid4(), display_name=new.display_name, create_time=dt.datetime.now(dt.UTC))
        await repo.insert(conn, lab, new.request_id, new.fingerprint())
        created = timestamp(lab.create_time)
        await add_event(
            conn,
            topic=LABS_TOPIC,
            key=str(lab.lab_id),
            message=events.LabCreated(lab_id=str(lab.lab_id), display_name=lab.display_name, create_time=created),
        )
        return lab


async def get_lab(pool: asyncpg.Pool, lab_id: uuid.UUID) -> Lab:
    async with pool.acquire() as conn:
        lab = await repo.get(conn, lab_id)
    if lab is None:
        raise NotFoundError("lab", str(lab_id))
    return lab
