"""ExportItems rate against a running intake (`make up`, then `make bench-export`).

Set-up: a lab, a key and a preference project through the API, then N delivered items written
straight into intake's items table (realistic rendered records of ~600 bytes). Consuming N
ItemFinalized events would take far longer than the export being measured; the export path
itself (query, gRPC stream, client decode) is the real one. Prints items/s for a full export.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import grpc

from cohort.intake.v1 import (
    delivery_pb2,
    delivery_pb2_grpc,
    labs_pb2,
    labs_pb2_grpc,
    projects_pb2,
    projects_pb2_grpc,
)
from cohort_runtime.tokens import issue_token

sys.path.insert(0, str(Path(__file__).parent))
from intake_ingest import spec


def record(project_id: str, i: int) -> str:
    return json.dumps(
        {
            "prompt": f"Compare the two answers about nucleophilic substitution and rank them (#{i}).",
            "chosen": "SN2 proceeds with inversion of configuration at the carbon centre.",
            "rejected": "SN1 proceeds via a planar carbocation and racemises.",
            "metadata": {
                "project_id": project_id,
                "item_id": str(uuid.uuid4()),
                "task_id": f"task-{i:07d}",
                "expert_ids": ["exp_7f3a91", "exp_91bc02", "exp_c0ffee"],
                "quality": {"agreement": 0.82, "confidence": 0.93, "reviewer_scores": [4.5]},
                "instructions_version": 1,
                "rubric_version": 1,
                "format_version": 1,
            },
        },
        separators=(",", ":"),
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", default="127.0.0.1:15051")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--schema", default="intake")
    args = parser.parse_args()
    private = Path(os.environ["COHORT_TOKEN_PRIVATE_KEY_FILE"]).read_text()  # noqa: ASYNC240 - once, at start
    operator = (("authorization", "Bearer " + issue_token(private, kind="operator", subject="bench")),)
    async with grpc.aio.insecure_channel(args.target) as channel:
        admin = labs_pb2_grpc.LabAdminServiceStub(channel)
        lab = (
            await admin.CreateLab(
                labs_pb2.CreateLabRequest(request_id=str(uuid.uuid4()), display_name="bench"),
                metadata=operator,
            )
        ).lab
        key = await admin.CreateApiKey(
            labs_pb2.CreateApiKeyRequest(lab_id=lab.lab_id, display_name="bench"), metadata=operator
        )
        md = (("authorization", f"Bearer {key.secret}"),)
        project = (
            await projects_pb2_grpc.ProjectServiceStub(channel).CreateProject(
                projects_pb2.CreateProjectRequest(request_id=str(uuid.uuid4()), spec=spec()), metadata=md
            )
        ).project
        pid = project.project_id

        conn = await asyncpg.connect(os.environ["COHORT_DATABASE_URL"], server_settings={"search_path": args.schema})
        try:
            t0 = time.perf_counter()
            await conn.copy_records_to_table(
                "items",
                records=[
                    (uuid.uuid4(), uuid.UUID(pid), f"task-{i:07d}", record(pid, i), dt.datetime.now(dt.UTC))
                    for i in range(args.items)
                ],
                columns=["item_id", "project_id", "task_id", "record_json", "deliver_time"],
            )
            print(f"set-up: {args.items} items written in {time.perf_counter() - t0:.1f} s")
        finally:
            await conn.close()

        delivery = delivery_pb2_grpc.DeliveryServiceStub(channel)
        t0 = time.perf_counter()
        count = nbytes = 0
        async for chunk in delivery.ExportItems(delivery_pb2.ExportItemsRequest(project_id=pid), metadata=md):
            count += len(chunk.items)
            nbytes += sum(len(i.record_json) for i in chunk.items)
        elapsed = time.perf_counter() - t0
    print(
        f"ExportItems: {count} items ({nbytes / 1e6:.0f} MB of JSONL) in {elapsed:.2f} s = "
        f"{count / elapsed:,.0f} items/s"
    )


if __name__ == "__main__":
    asyncio.run(main())
