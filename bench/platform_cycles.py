"""The platform benchmark (`make bench`): full cycles through all four services, co-located.

A cycle: an expert acquires a task (tasking; by default in the call that submits their previous
one, see `--separate-acquire`), submits it (tasking -> Kafka), QA judges it and
publishes the verdict (outbox -> Kafka), payout credits the ledger. Simulated experts answer at
once (`make bench` starts QA with its pace check relaxed, or every answer would be "too fast"),
so the figures are the platform's capacity, not the experts'. `--rate R` paces the experts so
that together they offer R cycles/s (latency at a load the platform sustains). Measured: credited cycles per second
over the run, acquire latency p50/p95/p99, submission-to-credit latency p50/p99 (the payout
posting's time minus tasking's storing of the submission), consumer lag sampled from every service's /metrics, and
each service's peak RSS. Prints a JSON summary and appends it, with the commit id, to
docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import asyncpg
import grpc

sys.path.insert(0, str(Path(__file__).parent))
from calibration import calibration_seconds
from cohort_client import LabClient
from cohort_client.channels import aio_channel
from cohort_client.lab import spec_from_dict
from cohort_client.operator import Endpoints, OperatorClient
from cpu import CpuMeter, stack_processes
from record import commit_id, publish
from simulator import Simulation, preference_tasks

from cohort.tasking.v1 import work_pb2, work_pb2_grpc
from cohort.types.v1 import submissions_pb2 as sub
from cohort_runtime.tokens import issue_token

ROOT = Path(__file__).resolve().parents[1]
METRICS = {"intake": 9101, "tasking": 9102, "qa": 9103, "payout": 9104}


def lag_now() -> int:
    total = 0
    for port in METRICS.values():
        try:
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
        except OSError:
            continue
        total += sum(
            int(float(line.rsplit(" ", 1)[1]))
            for line in text.splitlines()
            if line.startswith("cohort_kafka_consumer_lag{")
        )
    return total


def peak_rss_mb() -> dict[str, float]:
    out = {}
    for svc in METRICS:
        try:
            pid = (ROOT / ".local" / "run" / f"{svc}.pid").read_text().strip()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        hwm = next(line for line in status.splitlines() if line.startswith("VmHWM"))
        out[svc] = round(int(hwm.split()[1]) / 1024, 1)
    return out


async def expert_loop(
    channel,
    md,
    project_id: str,
    stop: asyncio.Event,
    acquire: list,
    submit: list,
    submitted: set[str],
    pause: float,
    separate: bool,
) -> None:
    """Acquire -> submit until stopped; `pause` seconds (jittered) after each cycle, 0 flat out.

    By default each submit also leases the next task (SubmitTask's acquire_next, one call per
    cycle); that call's time counts as both the submit's and the acquire's latency. `separate`
    makes two calls per cycle, AcquireTask then SubmitTask, as before acquire_next existed."""
    work = work_pb2_grpc.WorkServiceStub(channel)
    rng = random.Random(md[0][1])
    if pause:
        await asyncio.sleep(rng.uniform(0, pause))  # spread the experts' first calls
    lease = None
    while not stop.is_set():
        if lease is None:
            t0 = time.perf_counter()
            reply = await work.AcquireTask(work_pb2.AcquireTaskRequest(project_id=project_id), metadata=md, timeout=10)
            acquire.append(time.perf_counter() - t0)
            if not reply.HasField("assignment"):
                await asyncio.sleep(0.05)
                continue
            lease = reply.assignment
        payload = sub.SubmissionPayload(preference=sub.PreferenceSubmission(ranking=["a", "b"]))
        request = work_pb2.SubmitTaskRequest(assignment_id=lease.assignment_id, payload=payload)
        if not separate:
            request.acquire_next.project_id = project_id
        t1 = time.perf_counter()
        try:
            done = await work.SubmitTask(request, metadata=md, timeout=10)
        except grpc.aio.AioRpcError:
            lease = None
            continue
        took = time.perf_counter() - t1
        submit.append(took)
        submitted.add(done.submission_id)
        lease = done.next_assignment if done.HasField("next_assignment") else None
        if lease is not None:
            acquire.append(took)
        if pause:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * pause)


async def run(args: argparse.Namespace, key_pem: str) -> dict:
    tag = uuid.uuid4().hex[:6]
    experts, _ = Simulation.population({"accurate": args.experts}, 0, tag)
    tasks = preference_tasks(args.tasks, seed=1, gold_share=0)

    def setup() -> tuple[str, str]:
        with OperatorClient(Endpoints(), issue_token(key_pem, kind="operator", subject="bench")) as op:
            lab = op.create_lab(f"bench {tag}")
            for profile in Simulation.profiles(experts, []):
                op.register_expert(profile)
            key = op.create_api_key(lab.lab_id, "bench")
        with LabClient("127.0.0.1:15051", key) as lab_client:
            project = lab_client.create_project(
                spec_from_dict(
                    {
                        "title": "platform bench", "data_kind": "DATA_KIND_PREFERENCE", "domain": "chemistry.organic",
                        "instructions_markdown": "Pick the better answer.",
                        "qualifications": {"fields": ["chemistry"]}, "target_accepted_items": args.tasks,
                        "overlap": 1, "max_overlap": 1, "review_sample_rate": 0.0,
                        "rubric": {"criteria": [{"name": "q", "weight": 1.0, "scale_min": 1, "scale_max": 5}]},
                        "pay": {"per_submission": {"rate_minor": 100}}, "currency_code": "EUR",
                        "budget_cap_minor": 10**12, "deadline": "2030-01-01T00:00:00Z", "lease_duration": "300s",
                    }
                )
            )  # fmt: skip
            lab_client.add_tasks(project.project_id, [t.as_new_task() for t in tasks])
            lab_client.activate(project.project_id)
            return project.project_id, key

    project_id, lab_key = await asyncio.to_thread(setup)
    await asyncio.sleep(5)  # tasking has opened the slots
    stop = asyncio.Event()
    acquire: list[float] = []
    submit: list[float] = []
    submitted: set[str] = set()
    lags: list[int] = []
    async with aio_channel("127.0.0.1:15052") as channel:
        tokens = [(("authorization", "Bearer " + issue_token(key_pem, kind="expert", subject=e)),) for e, _ in experts]
        pause = args.experts / args.rate if args.rate else 0.0
        workers = [
            asyncio.create_task(
                expert_loop(channel, md, project_id, stop, acquire, submit, submitted, pause, args.separate_acquire)
            )
            for md in tokens
        ]
        started = time.monotonic()
        meter = CpuMeter(stack_processes())
        meter.start()
        while time.monotonic() - started < args.seconds:
            await asyncio.sleep(5)
            lags.append(await asyncio.to_thread(lag_now))
        stop.set()
        await asyncio.gather(*workers, return_exceptions=True)
        duration = time.monotonic() - started
        cores = meter.stop()
    await asyncio.sleep(10)  # the tail of the pipeline drains
    # The project would stay active with most of its slots open, and every later run on the same
    # stack would share the machine with it (tasking's gauges over its open slots, QA's passes
    # over its judgments): today's runs slowed from 242 to 183 cycles/s with six such left over.
    await asyncio.to_thread(_cancel, lab_key, project_id)
    conn = await asyncpg.connect(os.environ["COHORT_DATABASE_URL"])
    try:
        # Both times from the one machine's clock, as the services recorded them: tasking's store
        # of the submission and payout's posting of its earning. (The client's own reply time
        # came late for ~1 % of cycles while its event loop was busy, after the credit.)
        rows = await conn.fetch(
            """SELECT t.post_time - s.submit_time AS latency
               FROM tasking.submissions s
               JOIN payout.transactions t ON t.idempotency_key = 'decided:' || s.submission_id::text
               WHERE s.submission_id = ANY($1::uuid[]) AND t.kind = 'earning_accepted'""",
            list(submitted),
        )
    finally:
        await conn.close()
    credit = sorted(r["latency"].total_seconds() for r in rows)
    acq = statistics.quantiles(acquire, n=100) if len(acquire) > 2 else [float("nan")] * 99
    sbm = statistics.quantiles(submit, n=100) if len(submit) > 2 else [float("nan")] * 99
    crd = statistics.quantiles(credit, n=100) if len(credit) > 2 else [float("nan")] * 99
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "experts": args.experts,
        "offered_cycles_per_second": args.rate or "flat out",
        "calls_per_cycle": 2 if args.separate_acquire else 1,
        "seconds": round(duration),
        "submitted": len(submitted),
        "credited": len(rows),
        "cycles_per_second": round(len(rows) / duration, 1),
        "acquire_ms": {
            "p50": round(acq[49] * 1000, 1),
            "p95": round(acq[94] * 1000, 1),
            "p99": round(acq[98] * 1000, 1),
        },
        "submit_ms": {"p50": round(sbm[49] * 1000, 1), "p99": round(sbm[98] * 1000, 1)},
        "submit_to_credit_s": {"p50": round(crd[49], 2), "p99": round(crd[98], 2)},
        "consumer_lag": {"max": max(lags, default=0), "last": lags[-1] if lags else 0},
        "peak_rss_mb": peak_rss_mb(),
        # Where the CPU went (profile by process): share of one core each, and the machine's busy
        # time per credited cycle.
        "cpu_cores": {name: round(share, 2) for name, share in sorted(cores.items())},
        "cpu_ms_per_cycle": round(cores["machine"] / (len(rows) / duration) * 1000, 2) if rows else None,
    }


def _cancel(lab_key: str, project_id: str) -> None:
    with LabClient("127.0.0.1:15051", lab_key) as lab_client:
        lab_client.cancel(project_id, "benchmark finished")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--experts", type=int, default=64)
    parser.add_argument("--tasks", type=int, default=150_000)
    parser.add_argument(
        "--rate", type=float, default=0, help="offered cycles/s, experts pausing between cycles (0: flat out)"
    )
    parser.add_argument(
        "--separate-acquire",
        action="store_true",
        help="AcquireTask and SubmitTask as two calls per cycle (default: SubmitTask leases the next task too)",
    )
    args = parser.parse_args()
    key_pem = Path(os.environ["COHORT_TOKEN_PRIVATE_KEY_FILE"]).read_text()
    before = calibration_seconds()
    figures = asyncio.run(run(args, key_pem))
    # The same fixed work timed before and after: a reader compares machines and hours by it.
    publish(
        "bench", {"commit": commit_id(), "calibration_s": {"before": before, "after": calibration_seconds()}, **figures}
    )


if __name__ == "__main__":
    main()
