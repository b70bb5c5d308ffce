"""The web path benchmark (`make bench-workbench`): simulated experts over HTTP, as a browser
without JavaScript would: each signs in once (by invitation, in setup), then runs start -> submit
and next cycles with real forms against the co-located stack (the four services, the workbench,
Kafka and PostgreSQL on this machine).

A cycle is two requests: POST the submit form (tasking stores the work and leases the next task in
the same call) and GET the next task's page (the page asks tasking for the lease's true expiry).
Measured: completed cycles per second, p50/p99 per page, and CPU per cycle, both the machine's
(client included, as `make bench` counts it) and the stack's alone; `--rate R` paces the experts
to offer R cycles/s together. Prints JSON and appends it to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import re
import statistics
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from cohort_client import LabClient
from cohort_client.lab import spec_from_dict
from cohort_client.operator import Endpoints, OperatorClient
from cpu import CpuMeter, stack_processes
from record import commit_id, publish
from simulator import Simulation, preference_tasks

from cohort_runtime.tokens import issue_token

ROOT = Path(__file__).resolve().parents[1]
BASE = os.environ.get("COHORT_WORKBENCH_PUBLIC_URL", "http://127.0.0.1:8088")
# The simulated experts' password: a fresh one per run (zxcvbn rates a random token highly).
PASSWORD = "bench-" + uuid.uuid4().hex
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
RANKING = re.compile(r'name="ranking" value="([^"]+)"')


def setup(key_pem: str, experts: int, tasks: int, tag: str) -> tuple[str, list[tuple[str, str]]]:
    """A preference project with `tasks` tasks; `experts` registered experts with invitation links."""
    population, _ = Simulation.population({"accurate": experts}, 0, tag)
    with OperatorClient(Endpoints(), issue_token(key_pem, kind="operator", subject="bench")) as op:
        lab = op.create_lab(f"web bench {tag}")
        links = []
        for profile in Simulation.profiles(population, []):
            op.register_expert(profile)
            links.append((profile.expert_id, op.invite_expert(profile.expert_id).invitation_url))
        key = op.create_api_key(lab.lab_id, "bench")
    with LabClient("127.0.0.1:15051", key) as lab_client:
        project = lab_client.create_project(
            spec_from_dict(
                {
                    "title": "web bench", "data_kind": "DATA_KIND_PREFERENCE", "domain": "chemistry.organic",
                    "instructions_markdown": "Pick the better answer.",
                    "qualifications": {"fields": ["chemistry"]}, "target_accepted_items": tasks,
                    "overlap": 1, "max_overlap": 1, "review_sample_rate": 0.0,
                    "rubric": {"criteria": [{"name": "q", "weight": 1.0, "scale_min": 1, "scale_max": 5}]},
                    "pay": {"per_submission": {"rate_minor": 100}}, "currency_code": "EUR",
                    "budget_cap_minor": 10**12, "deadline": "2030-01-01T00:00:00Z", "lease_duration": "300s",
                }
            )
        )  # fmt: skip
        lab_client.add_tasks(
            project.project_id, [t.as_new_task() for t in preference_tasks(tasks, seed=1, gold_share=0)]
        )
        lab_client.activate(project.project_id)
    return project.project_id, links


async def join(client: httpx.AsyncClient, link: str, name: str) -> None:
    joined = await client.post(
        urlparse(link).path, data={"sign_in_name": name, "password": PASSWORD, "password_again": PASSWORD}
    )
    if joined.status_code != 303:
        raise RuntimeError(f"joining failed: {joined.status_code} {joined.text[:300]}")


class Pages:
    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.cycles = 0

    async def timed(self, name: str, call) -> httpx.Response:  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        response = await call
        self.seconds[name].append(time.perf_counter() - t0)
        if response.status_code >= 400:
            self.errors[f"{name} {response.status_code}"] += 1
        return response


async def expert(client: httpx.AsyncClient, project_id: str, pages: Pages, stop: asyncio.Event, pause: float) -> None:
    rng = random.Random(id(client))
    if pause:
        await asyncio.sleep(rng.uniform(0, pause))
    home = await client.get("/")
    token = CSRF.search(home.text).group(1)  # type: ignore[union-attr]
    location = None
    while not stop.is_set():
        if location is None:
            started = await pages.timed(
                "start", client.post("/work/start", data={"csrf_token": token, "project_id": project_id})
            )
            location = started.headers.get("location", "")
            if not location.startswith("/work/"):
                location = None
                await asyncio.sleep(0.2)
                continue
        page = await pages.timed("task", client.get(location))
        ranking = RANKING.findall(page.text)
        if page.status_code != 200 or not ranking:
            location = None
            continue
        answer = {"csrf_token": token, "ranking": ranking, "rationale": "", "then": "next"}
        done = await pages.timed("submit", client.post(f"{location}/submit", data=answer))
        if done.status_code != 303:
            location = None
            continue
        pages.cycles += 1
        nxt = done.headers.get("location", "")
        location = nxt if nxt.startswith("/work/") else None
        if pause:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * pause)


async def run(args: argparse.Namespace, key_pem: str) -> dict:
    tag = uuid.uuid4().hex[:6]
    project_id, links = await asyncio.to_thread(setup, key_pem, args.experts, args.tasks, tag)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [httpx.AsyncClient(base_url=BASE, limits=limits, timeout=30) for _ in links]
    try:
        for i, (client, (_expert, link)) in enumerate(zip(clients, links, strict=True)):
            await join(client, link, f"bench{tag}{i}")
        await asyncio.sleep(3)  # tasking has opened the slots
        pages = Pages()
        stop = asyncio.Event()
        pause = args.experts / args.rate if args.rate else 0.0
        workers = [asyncio.create_task(expert(c, project_id, pages, stop, pause)) for c in clients]
        await asyncio.sleep(min(10, args.seconds / 6))  # warm-up: leases taken, caches filled
        warm_cycles = pages.cycles
        pages.seconds.clear()
        meter = CpuMeter(stack_processes())
        meter.start()
        started = time.monotonic()
        await asyncio.sleep(args.seconds)
        cycles = pages.cycles - warm_cycles
        duration = time.monotonic() - started
        cores = meter.stop()
        seconds = {k: list(v) for k, v in pages.seconds.items()}
        stop.set()
        for outcome in await asyncio.gather(*workers, return_exceptions=True):
            if isinstance(outcome, Exception):
                pages.errors[f"expert stopped: {type(outcome).__name__}: {outcome}"[:200]] += 1
    finally:
        for client in clients:
            await client.aclose()
    per_second = cycles / duration
    stack = sum(v for k, v in cores.items() if k not in ("machine", "client"))

    def quantiles(values: list[float]) -> dict[str, float]:
        q = statistics.quantiles(values, n=100) if len(values) > 2 else [float("nan")] * 99
        return {"p50": round(q[49] * 1000, 1), "p99": round(q[98] * 1000, 1), "n": len(values)}

    requests = sum(len(v) for v in seconds.values())
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "experts": args.experts,
        "offered_cycles_per_second": args.rate or "flat out",
        "seconds": round(duration),
        "cycles_per_second": round(per_second, 1),
        "pages_per_second": round(requests / duration, 1),
        "page_ms": {name: quantiles(values) for name, values in sorted(seconds.items())},
        "errors": dict(pages.errors),
        "cpu_cores": {name: round(share, 2) for name, share in sorted(cores.items())},
        "cpu_ms_per_cycle": round(cores["machine"] / per_second * 1000, 2) if cycles else None,
        "stack_cpu_ms_per_cycle": round(stack / per_second * 1000, 2) if cycles else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--experts", type=int, default=32)
    parser.add_argument("--tasks", type=int, default=60_000)
    parser.add_argument("--rate", type=float, default=0, help="offered cycles/s (0: flat out)")
    args = parser.parse_args()
    key_pem = Path(os.environ["COHORT_TOKEN_PRIVATE_KEY_FILE"]).read_text()
    publish("bench-workbench", {"commit": commit_id(), **asyncio.run(run(args, key_pem))})


if __name__ == "__main__":
    main()
