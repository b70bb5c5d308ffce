"""A service started as its own process (`python -m cohort_intake`) serves, then stops gracefully
on SIGTERM: it drains, exits 0 and says so in its JSON log."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import time

from cohort_runtime.probe import wait_serving


async def test_sigterm_stops_a_service_gracefully(schema, token_keys, unique):
    env = {
        **os.environ,
        "COHORT_INTAKE_DB_SCHEMA": schema,
        "COHORT_INTAKE_GRPC_PORT": "0",
        "COHORT_INTAKE_METRICS_PORT": "0",
        "COHORT_TOKEN_PUBLIC_KEY": token_keys[1],
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cohort_intake",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    lines: list[dict] = []
    port = None
    try:
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline:
            raw = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
            if not raw:
                break
            if not raw.startswith(b"{"):
                continue  # not a log record (e.g. a traceback): the assertion below shows the log
            record = json.loads(raw)
            lines.append(record)
            match = re.search(r"serving gRPC on 127\.0\.0\.1:(\d+)", record["message"])
            port = int(match.group(1)) if match else None
        assert port, f"no serving line in {lines}"
        assert await wait_serving(f"127.0.0.1:{port}", 10)
        proc.send_signal(signal.SIGTERM)
        rest, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0
    messages = [json.loads(line)["message"] for line in rest.decode().splitlines() if line.startswith("{")]
    assert any("received a stop signal" in m for m in messages)
    assert messages[-1] == "intake stopped"
    assert all({"time", "level", "logger", "service"} <= set(r) for r in lines)


async def test_migrate_mode_applies_the_schema_and_exits(schema, database_url):
    """`python -m cohort_<svc> migrate` is what the Helm pre-upgrade hook runs."""
    import asyncpg

    env = {**os.environ, "COHORT_QA_DB_SCHEMA": schema}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cohort_qa", "migrate", env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode()
    conn = await asyncpg.connect(database_url)
    try:
        tables = {r["table_name"] for r in await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema
        )}  # fmt: skip
    finally:
        await conn.close()
    assert {"outbox", "inbox", "submissions", "reviews", "items"} <= tables
    assert "qa migrations applied" in out.decode()
