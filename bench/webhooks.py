"""Webhook deliveries/s and delivery lag (`make bench-webhooks`), against the local PostgreSQL.

Intake's real dispatcher (signing, SSRF check, httpx, recording every attempt) sends to a
keep-alive HTTP receiver on loopback. Messages are queued the way intake's handlers queue them
(`app.webhooks.announce`, in a transaction), for `--labs` labs with one endpoint each.
1. Flat out: `--backlog` messages queued at once; deliveries/s until the receiver has them all.
2. Paced: `--rate` messages a second for `--seconds`; lag from the event's timestamp to its
   arrival at the receiver, p50/p99.
Prints the figures and one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import TextIO

from calibration import calibration_seconds
from prometheus_client import CollectorRegistry

from cohort_intake.app import webhooks
from cohort_intake.app.webhook_dispatch import Dispatcher
from cohort_intake.config import IntakeSettings
from cohort_intake.domain.webhooks import EventType
from cohort_intake.metrics import IntakeMetrics
from cohort_runtime.sealing import SecretBox
from cohort_runtime.testing import migrated_pool


class Receiver:
    """The lab's side, run in a process of its own (`--serve`) so that it does not take the
    dispatcher's CPU: it answers 204 and appends each arrival's time and event timestamp to a file."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionResetError):
            while True:  # keep-alive: one connection carries many requests
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode().split("\r\n"):
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                body = await reader.readexactly(length)
                stamp = json.loads(body)["timestamp"]
                self.out.write(f"{time.time()}\t{stamp}\n")
                self.out.flush()
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        writer.close()


async def serve(port_file: str, out_file: str) -> None:
    with open(out_file, "a") as out:  # noqa: ASYNC230 - the receiver's own process, nothing else waits
        server = await asyncio.start_server(Receiver(out).handle, "127.0.0.1", 0)
        Path(port_file).write_text(str(server.sockets[0].getsockname()[1]))  # noqa: ASYNC240 - a few bytes, once
        await server.serve_forever()


async def until_arrived(out_file: Path, n: int, within: float) -> list[tuple[float, str]]:
    """The first `n` arrivals the receiver wrote (fewer if `within` runs out), read as they come."""
    got: list[tuple[float, str]] = []
    deadline = time.perf_counter() + within
    with out_file.open() as lines:
        while len(got) < n and time.perf_counter() < deadline:
            chunk = lines.readlines()
            got += [(float(a), s.strip()) for a, s in (line.split("\t") for line in chunk if line.endswith("\n"))]
            if not chunk:
                await asyncio.sleep(0.05)
    return got


async def main() -> None:  # noqa: PLR0915 - one benchmark, told in order
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--labs", type=int, default=20)
    parser.add_argument("--backlog", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    dsn = os.environ["COHORT_DATABASE_URL"]
    schema = f"bench_webhooks_{uuid.uuid4().hex[:8]}"
    pool = await migrated_pool(
        dsn, schema, service="intake", migrations_dir=IntakeSettings.model_fields["migrations_dir"].default,
        max_size=8,
    )  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    port_file, out_file = work / "port", work / "arrivals"
    receiver = await asyncio.create_subprocess_exec(sys.executable, __file__, "--serve", str(port_file), str(out_file))
    while not port_file.exists():  # noqa: ASYNC110 - waiting for the receiver process to write its port
        await asyncio.sleep(0.05)
    port = int(port_file.read_text())
    # Signing secrets are sealed at rest; the benchmark's key lives as long as its run.
    box = SecretBox(secrets.token_urlsafe(32), "webhook-signing-secret")
    dispatcher = Dispatcher(
        pool, IntakeMetrics(CollectorRegistry()), box, schedule=(1.0,) * 8, allowed_networks=("127.0.0.0/8",)
    )
    try:
        labs = []
        now = dt.datetime.now(dt.UTC)
        async with pool.acquire() as conn:
            for i in range(args.labs):
                lab_id = uuid.uuid4()
                await conn.execute(
                    "INSERT INTO labs VALUES ($1, $2, $3, $4, 'f')", lab_id, f"lab {i}", now, uuid.uuid4()
                )
                labs.append(lab_id)
        for lab_id in labs:
            await webhooks.create_endpoint(pool, box, lab_id, f"http://127.0.0.1:{port}/hooks", ["items.delivered"], "")

        async def announce(n: int) -> None:
            per_lab: dict[uuid.UUID, int] = {}
            for i in range(n):
                lab = labs[i % len(labs)]
                per_lab[lab] = per_lab.get(lab, 0) + 1
            async with pool.acquire() as conn, conn.transaction():
                for lab, count in per_lab.items():
                    data = [{"project_id": str(uuid.uuid4()), "item_ids": [str(uuid.uuid4())]}] * count
                    await webhooks.announce(conn, lab, EventType.ITEMS_DELIVERED, data, dt.datetime.now(dt.UTC))

        for start in range(0, args.backlog, 2000):
            await announce(min(2000, args.backlog - start))
        run = asyncio.create_task(dispatcher.run_forever())
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        await until_arrived(out_file, args.backlog, 600)
        flat_seconds = time.perf_counter() - t0
        flat_cpu = time.process_time() - cpu0
        rate = args.backlog / flat_seconds
        cpu_ms = flat_cpu / args.backlog * 1000
        print(f"flat out: {args.backlog:,} deliveries to {args.labs} endpoints in {flat_seconds:.1f} s: {rate:,.0f}/s "
              f"({cpu_ms:.2f} ms of the dispatcher's CPU each; the receiver in a process of its own)")  # fmt: skip

        paced_file = work / "paced"
        out_file.rename(paced_file)  # the receiver keeps appending to the same file, now by this name
        sent = 0
        t0 = time.perf_counter()
        while (elapsed := time.perf_counter() - t0) < args.seconds:
            due = int(elapsed * args.rate) - sent
            if due > 0:
                await announce(due)
                sent += due
            await asyncio.sleep(0.01)
        got = (await until_arrived(paced_file, args.backlog + sent, 30))[args.backlog :]
        lags = sorted(at - dt.datetime.fromisoformat(stamp).timestamp() for at, stamp in got)
        p50 = statistics.median(lags)
        p99 = lags[int(len(lags) * 0.99) - 1]
        print(f"paced {args.rate:.0f}/s for {args.seconds:.0f} s: {len(lags):,} of {sent:,} delivered, "
              f"lag p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")  # fmt: skip
        print(json.dumps({
            "bench": "webhooks", "labs": args.labs, "backlog": args.backlog, "flat_per_second": round(rate, 1),
            "flat_cpu_ms_per_delivery": round(flat_cpu / args.backlog * 1000, 3), "paced_rate": args.rate,
            "paced_delivered": len(lags), "paced_sent": sent, "lag_p50_ms": round(p50 * 1000, 1),
            "lag_p99_ms": round(p99 * 1000, 1), "cores": os.cpu_count(), "calibration_s": calibration_seconds(),
        }))  # fmt: skip
        run.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await run
    finally:
        receiver.terminate()
        await receiver.wait()
        await pool.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await pool.close()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        asyncio.run(serve(sys.argv[2], sys.argv[3]))
    else:
        asyncio.run(main())
