"""Every metric a dashboard or an alerting rule uses is one the running services export: the four
services and the workbench are started (real Postgres and Kafka), their /metrics scraped, and the names compared
with those in deploy/observability's dashboards and rules."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.request
from pathlib import Path

import asyncpg
import yaml

from cohort_intake.bootstrap import definition as intake_definition
from cohort_intake.config import IntakeSettings
from cohort_payout.bootstrap import definition as payout_definition
from cohort_payout.config import PayoutSettings
from cohort_qa.bootstrap import definition as qa_definition
from cohort_qa.config import QASettings
from cohort_runtime import ServiceRuntime
from cohort_tasking.bootstrap import definition as tasking_definition
from cohort_tasking.config import TaskingSettings
from cohort_workbench.bootstrap import Workbench
from cohort_workbench.config import WorkbenchSettings

OBS = Path(__file__).resolve().parents[1] / "deploy" / "observability"
NAME = re.compile(r"\b((?:grpc_server|cohort|qa)_[a-z_]+)\b")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def used_names() -> set[str]:
    exprs: list[str] = []
    for path in (OBS / "dashboards").glob("*.json"):
        dashboard = json.loads(path.read_text())
        exprs += [t["expr"] for p in dashboard.get("panels", []) for t in p.get("targets", []) if "expr" in t]
    for path in (OBS / "rules").glob("*.yaml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            exprs += [r["expr"] for r in group["rules"]]
    assert exprs, "no expressions found"
    labels = {"cohort_service"}  # the label the ServiceMonitor adds, not a metric
    return {m for e in exprs for m in NAME.findall(e)} - labels


def exported(text: str) -> set[str]:
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            base = name.removesuffix("_total")
            names |= {base + s for s in SUFFIXES.get(kind, ("",))}
    return names


async def test_every_metric_in_dashboards_and_rules_is_exported(database_url, token_keys, unique):
    public = token_keys[1]
    schemas = [unique(s) for s in ("intake", "tasking", "qa", "payout", "workbench")]
    common = {"grpc_port": 0, "metrics_port": 0, "COHORT_TOKEN_PUBLIC_KEY": public}
    runtimes = [
        ServiceRuntime(intake_definition(IntakeSettings(db_schema=schemas[0], **common))),
        ServiceRuntime(tasking_definition(TaskingSettings(db_schema=schemas[1], **common))),
        ServiceRuntime(qa_definition(QASettings(db_schema=schemas[2], **common))),
        ServiceRuntime(payout_definition(PayoutSettings(db_schema=schemas[3], **common))),
        ServiceRuntime(
            Workbench(
                WorkbenchSettings(db_schema=schemas[4], http_port=0, token_private_key=token_keys[0], **common)
            ).definition()
        ),
    ]
    try:
        async with runtimes[0], runtimes[1], runtimes[2], runtimes[3], runtimes[4]:
            await asyncio.sleep(1)  # the gauge refreshers run once at start
            scraped: set[str] = set()
            for rt in runtimes:
                url = f"http://127.0.0.1:{rt.metrics_port}/metrics"
                text = await asyncio.to_thread(lambda u=url: urllib.request.urlopen(u, timeout=10).read().decode())  # noqa: S310
                scraped |= exported(text)
    finally:
        conn = await asyncpg.connect(database_url)
        try:
            for s in schemas:
                await conn.execute(f"DROP SCHEMA IF EXISTS {s} CASCADE")
        finally:
            await conn.close()
    used = used_names()
    assert {"grpc_server_handled_total", "cohort_kafka_consumer_lag", "qa_verdicts_total"} <= used
    missing = sorted(used - scraped)
    assert not missing, f"dashboards or rules use metrics no service exports: {missing}"
