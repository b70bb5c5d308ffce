"""The local demo (`make demo`). Today it shows the walking skeleton's event path: an operator
onboards a lab through intake's gRPC API, and the LabCreated event travels through intake's
outbox, Kafka and tasking's inbox into tasking's own copy. The end-to-end issue replaces this with
the platform's full main job (project -> tasks -> experts -> QA -> delivery -> payout)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import grpc

from cohort.intake.v1 import labs_pb2 as pb
from cohort.intake.v1 import labs_pb2_grpc as pb_grpc
from cohort_runtime.tokens import issue_token

log = logging.getLogger("demo")


async def main() -> int:
    private_key = Path(os.environ["COHORT_TOKEN_PRIVATE_KEY_FILE"]).read_text()  # noqa: ASYNC240 - one small local file
    token = issue_token(private_key, kind="operator", subject="demo-operator")
    name = f"Demo Lab {time.strftime('%H:%M:%S')}"
    async with grpc.aio.insecure_channel("127.0.0.1:50051") as channel:
        reply = await pb_grpc.LabAdminServiceStub(channel).CreateLab(
            pb.CreateLabRequest(request_id=str(uuid.uuid4()), display_name=name),
            metadata=(("authorization", f"Bearer {token}"),),
            timeout=10,
        )
    log.info("intake created lab %s (%s)", reply.lab.lab_id, reply.lab.display_name)
    # Reading tasking's table directly is for this demonstration only; services never do this.
    conn = await asyncpg.connect(os.environ["COHORT_DATABASE_URL"])
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 30:
            row = await conn.fetchrow(
                "SELECT display_name FROM tasking.known_labs WHERE lab_id = $1", uuid.UUID(reply.lab.lab_id)
            )
            if row:
                log.info(
                    "tasking received LabCreated after %.0f ms: known_labs has %r",
                    (time.monotonic() - t0) * 1000,
                    row["display_name"],
                )
                return 0
            await asyncio.sleep(0.05)
    finally:
        await conn.close()
    log.error("tasking did not receive the event within 30 s; see .local/logs/")
    return 1


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="demo: %(message)s")
    sys.exit(asyncio.run(main()))
