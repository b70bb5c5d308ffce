"""The main job in small, over the four services (real gRPC, Kafka, Postgres) and the lab client:
a lab's preference project is worked by simulated experts (accurate ones, spammers, one biased to
the first-shown answer) and a reviewer; the lab receives every item as TRL preference JSONL, the
labels match the hidden truth, spammers earn nothing, and another lab sees none of it. The same
for a rubric-grade project (per-criterion consensus, the weighted overall score, per-criterion
alpha). A budget cap pauses a project."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from pathlib import Path

import grpc
import krippendorff
import numpy as np
import pytest
from cohort_client import AsyncLabClient, CohortError
from cohort_client.lab import spec_from_dict
from cohort_client.operator import Endpoints, OperatorClient

from cohort.intake.v1 import projects_pb2 as ppb
from cohort_runtime.tokens import issue_token

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from simulator import FIELD, RUBRIC, SCALE, Simulation, preference_tasks, rubric_tasks


@pytest.fixture
async def platform(services):
    # Simulated experts think ~2.3 s a task; spammers answer at once and must still be caught.
    qa = {"min_seconds": 2.5, "max_typing_chars_per_second": 1e9, "max_reading_chars_per_second": 1e9}
    async with services("intake", "tasking", "qa", "payout", qa=qa) as running:
        yield [running[name] for name in ("intake", "tasking", "qa", "payout")]


def spec(tasks: int, budget: int = 10**7, overlap: int = 3, kind: str = "preference") -> ppb.ProjectSpec:
    if kind == "rubric":
        criteria = [{"name": c, "weight": w, "scale_min": SCALE[0], "scale_max": SCALE[1]} for c, w in RUBRIC]
    else:
        criteria = [{"name": "correct", "weight": 1.0, "scale_min": 1, "scale_max": 5}]
    return spec_from_dict(
        {
            "title": "e2e",
            "data_kind": "DATA_KIND_RUBRIC_GRADE" if kind == "rubric" else "DATA_KIND_PREFERENCE",
            "domain": FIELD,
            "qualifications": {"fields": ["chemistry"], "languages": ["en"]},
            "instructions_markdown": "Grade or pick the correct answer.",
            "rubric": {"criteria": criteria},
            "target_accepted_items": tasks,
            "overlap": overlap,
            "max_overlap": overlap + 4,
            "review_sample_rate": 0.2,
            "pay": {"per_submission": {"rate_minor": 100}, "review_rate_minor": 30},
            "currency_code": "EUR",
            "budget_cap_minor": budget,
            "deadline": "2030-01-01T00:00:00Z",
            "lease_duration": "60s",
        }
    )


def operator_for(runtimes, keys) -> OperatorClient:
    ports = [f"127.0.0.1:{rt.grpc_port}" for rt in runtimes]
    token = issue_token(keys[0], kind="operator", subject="op")
    return OperatorClient(Endpoints(*ports), token)


async def run_experts(sim: Simulation, runtimes, keys, project_id: str, until) -> None:
    stop = asyncio.Event()

    def md(subject: str, *roles: str) -> tuple:
        return (("authorization", "Bearer " + issue_token(keys[0], kind="expert", subject=subject, roles=roles)),)

    async with (
        grpc.aio.insecure_channel(f"127.0.0.1:{runtimes[1].grpc_port}") as tasking,
        grpc.aio.insecure_channel(f"127.0.0.1:{runtimes[2].grpc_port}") as qa,
    ):
        workers = [asyncio.create_task(sim.expert(tasking, md(e), e, p, project_id, stop)) for e, p in sim.experts]
        workers += [
            asyncio.create_task(sim.reviewer(qa, md(r, "reviewer"), project_id, stop, r)) for r in sim.reviewers
        ]
        try:
            deadline = time.monotonic() + 90
            while not await until():
                assert time.monotonic() < deadline, "the simulated experts did not finish in time"
                await asyncio.sleep(0.5)
        finally:
            stop.set()
            await asyncio.gather(*workers, return_exceptions=True)


async def test_the_main_job_in_small(platform, token_keys):
    intake, _tasking, qa, payout = platform
    tag = uuid.uuid4().hex[:6]
    experts, reviewers = Simulation.population({"accurate": 5, "spammer": 2, "first_shown": 1}, 1, tag)
    tasks = preference_tasks(8, seed=5, gold_share=0.25)
    sim = Simulation(experts, reviewers, {t.task_id: t for t in tasks}, think_seconds=(2.1, 2.4))

    def onboard() -> tuple[str, str]:
        # The operator client is synchronous: it runs in a thread, the services on this loop.
        with operator_for(platform, token_keys) as op:
            lab, other_lab = op.create_lab("e2e lab"), op.create_lab("another lab")
            for profile in Simulation.profiles(experts, reviewers):
                op.register_expert(profile)
            return op.create_api_key(lab.lab_id, "k"), op.create_api_key(other_lab.lab_id, "k")

    key, other_key = await asyncio.to_thread(onboard)
    target = f"127.0.0.1:{intake.grpc_port}"
    async with AsyncLabClient(target, key) as lab_client, AsyncLabClient(target, other_key) as other:
        project = await lab_client.create_project(spec(len(tasks)))
        assert await lab_client.add_tasks(project.project_id, [t.as_new_task() for t in tasks]) == (len(tasks), 0)
        await lab_client.activate(project.project_id)

        async def delivered() -> bool:
            return (await lab_client.get_project(project.project_id)).state == ppb.PROJECT_STATE_COMPLETED

        await run_experts(sim, platform, token_keys, project.project_id, delivered)
        items = [item async for item in lab_client.export_items(project.project_id)]

        # Two labs never see each other's data.
        with pytest.raises(CohortError) as err:
            await other.get_project(project.project_id)
        assert err.value.code == grpc.StatusCode.NOT_FOUND
        with pytest.raises(CohortError):
            _ = [i async for i in other.export_items(project.project_id)]

    assert sorted(i.task_id for i in items) == sorted(sim.tasks)
    right = 0
    for item in items:
        record = json.loads(item.record_json)  # one pair per item: two candidates
        assert isinstance(record["prompt"], str) and isinstance(record["chosen"], str)
        assert isinstance(record["rejected"], str) and record["chosen"] != record["rejected"]
        shown = record["metadata"]["expert_ids"]  # the lab's own pseudonyms, never the experts' ids
        assert shown and all(s.startswith("xp_") for s in shown) and not set(shown) & {e for e, _ in experts}
        right += f"Answer {sim.tasks[item.task_id].better} to" in record["chosen"]
    assert right >= len(items) - 1, f"{right}/{len(items)} delivered labels match the truth"
    spammers = [e for e, p in experts if p.spam]
    assert all(sim.stats[s].submitted > 0 for s in spammers), "the spammers did try"
    accepted = await qa.pool.fetchval(
        "SELECT count(*) FROM submissions WHERE expert_id = ANY($1::text[]) AND state = 'accepted'", spammers
    )
    assert accepted == 0, "QA accepted nothing a spammer handed in"
    owed = await payout.pool.fetchval(
        "SELECT coalesce(sum(balance), 0) FROM accounts WHERE name = ANY($1::text[])",
        [f"expert:{s}:payable" for s in spammers] + [f"expert:{s}:pending" for s in spammers],
    )
    assert owed == 0, "spammers earn nothing"


async def test_a_rubric_project_through_the_four_services(platform, token_keys):
    """Experts grade answers on three weighted criteria (seven accurate, one straight-liner who gives
    everything the top score); the lab receives each item's per-criterion consensus and weighted
    overall score, close to the truth; QA's per-criterion alpha is Krippendorff's on exactly the
    accepted grades; accepted work is credited in the ledger."""
    intake, _tasking, qa, payout = platform
    tag = uuid.uuid4().hex[:6]
    # Seven accurate experts beside the straight-liner: a task whose graders disagree can reach its
    # maximum overlap (7), where it is finalized with what it has, even once QA has barred the
    # straight-liner (with six, such a task waited for a seventh grader who could not come: a clean-
    # clone CI run stalled here for 90 s once, probably so).
    experts, reviewers = Simulation.population({"accurate": 7, "first_shown": 1}, 1, tag)
    tasks = rubric_tasks(8, seed=3, gold_share=0.25)
    sim = Simulation(experts, reviewers, {t.task_id: t for t in tasks}, think_seconds=(2.1, 2.4))

    def onboard() -> str:
        with operator_for(platform, token_keys) as op:
            lab = op.create_lab("rubric lab")
            for profile in Simulation.profiles(experts, reviewers):
                op.register_expert(profile)
            return op.create_api_key(lab.lab_id, "k")

    key = await asyncio.to_thread(onboard)
    async with AsyncLabClient(f"127.0.0.1:{intake.grpc_port}", key) as lab_client:
        project = await lab_client.create_project(spec(len(tasks), kind="rubric"))
        await lab_client.add_tasks(project.project_id, [t.as_new_task() for t in tasks])
        await lab_client.activate(project.project_id)

        async def delivered() -> bool:
            return (await lab_client.get_project(project.project_id)).state == ppb.PROJECT_STATE_COMPLETED

        await run_experts(sim, platform, token_keys, project.project_id, delivered)
        items = [
            json.loads(i.record_json) | {"task_id": i.task_id}
            async for i in lab_client.export_items(project.project_id)
        ]

    assert sorted(i["task_id"] for i in items) == sorted(sim.tasks)
    weights = dict(RUBRIC)
    for item in items:
        assert set(item["scores"]) == set(weights) and item["response"].startswith("Answer to")
        assert item["overall"] == pytest.approx(sum(weights[c] * v for c, v in item["scores"].items()))
        truth = sim.tasks[item["task_id"]]
        assert abs(item["overall"] - truth.overall) <= 1.0, (item, truth.scores)

    with operator_for(platform, token_keys) as op:
        quality = await asyncio.to_thread(op.project_quality, project.project_id)
    rows = await qa.pool.fetch(
        "SELECT task_id, expert_id, scores FROM submissions WHERE project_id = $1::text::uuid AND state = 'accepted'",
        project.project_id,
    )
    raters = sorted({r["expert_id"] for r in rows})
    units = sorted({r["task_id"] for r in rows})
    assert quality.alpha_level == "interval" and set(quality.criterion_alpha) == set(weights)
    for criterion in weights:
        data = np.full((len(raters), len(units)), np.nan)
        for r in rows:
            data[raters.index(r["expert_id"]), units.index(r["task_id"])] = json.loads(r["scores"])[criterion]
        pairable = data[:, (~np.isnan(data)).sum(axis=0) >= 2]
        expected = krippendorff.alpha(reliability_data=pairable, level_of_measurement="interval")
        assert quality.criterion_alpha[criterion] == pytest.approx(expected), criterion

    async def credited() -> bool:
        # Accepted earnings move from pending to payable (credits are negative balances).
        accepted = await qa.pool.fetch(
            """SELECT expert_id, count(*) AS n FROM submissions
               WHERE project_id = $1::text::uuid AND state = 'accepted' GROUP BY expert_id""",
            project.project_id,
        )
        for r in accepted:
            payable = await payout.pool.fetchval(
                "SELECT coalesce(sum(balance), 0) FROM accounts WHERE name = $1", f"expert:{r['expert_id']}:payable"
            )
            if payable != -100 * r["n"]:
                return False
        return bool(accepted)

    deadline = time.monotonic() + 15
    while not await credited():
        assert time.monotonic() < deadline, "accepted rubric grades were not all credited at 100 each"
        await asyncio.sleep(0.3)


async def test_a_budget_cap_pauses_the_project(platform, token_keys):
    intake = platform[0]
    tag = uuid.uuid4().hex[:6]
    experts, _ = Simulation.population({"accurate": 4}, 0, tag)
    tasks = preference_tasks(20, seed=9, gold_share=0)
    sim = Simulation(experts, [], {t.task_id: t for t in tasks}, think_seconds=(2.1, 2.3))

    def onboard() -> str:
        with operator_for(platform, token_keys) as op:
            lab = op.create_lab("small budget lab")
            for profile in Simulation.profiles(experts, []):
                op.register_expert(profile)
            return op.create_api_key(lab.lab_id, "k")

    key = await asyncio.to_thread(onboard)
    async with AsyncLabClient(f"127.0.0.1:{intake.grpc_port}", key) as lab_client:
        # Room for five earnings of 100 (+20 % fee), not for twenty tasks.
        project = await lab_client.create_project(spec(len(tasks), budget=600, overlap=1))
        await lab_client.add_tasks(project.project_id, [t.as_new_task() for t in tasks])
        await lab_client.activate(project.project_id)

        async def paused() -> bool:
            return (await lab_client.get_project(project.project_id)).state == ppb.PROJECT_STATE_PAUSED

        await run_experts(sim, platform, token_keys, project.project_id, paused)
        final = await lab_client.get_project(project.project_id)
    assert final.state == ppb.PROJECT_STATE_PAUSED
    assert sum(s.submitted for s in sim.stats.values()) < len(tasks), "work stopped at the cap"


async def test_an_expert_qa_rates_below_the_minimum_gets_no_more_tasks(platform, token_keys):
    """A spammer's instant answers are rejected; each rejection is evidence, QA's estimate of them
    falls below the project's minimum quality (0.6), tasking learns it from ExpertQualityUpdated
    and stops offering them work — while tasks remain for everyone else."""
    intake, tasking_rt, qa, _payout = platform
    tag = uuid.uuid4().hex[:6]
    experts, _ = Simulation.population({"spammer": 1, "accurate": 1}, 0, tag)
    spammer = experts[0][0]
    tasks = preference_tasks(40, seed=4, gold_share=0)

    def onboard() -> str:
        with operator_for(platform, token_keys) as op:
            lab = op.create_lab("quality gate lab")
            for profile in Simulation.profiles(experts, []):
                op.register_expert(profile)
            return op.create_api_key(lab.lab_id, "k")

    key = await asyncio.to_thread(onboard)
    project_spec = spec(len(tasks), overlap=1)
    project_spec.qualifications.minimum_quality = 0.6
    async with AsyncLabClient(f"127.0.0.1:{intake.grpc_port}", key) as lab_client:
        project = await lab_client.create_project(project_spec)
        await lab_client.add_tasks(project.project_id, [t.as_new_task() for t in tasks])
        await lab_client.activate(project.project_id)
    md = (("authorization", "Bearer " + issue_token(token_keys[0], kind="expert", subject=spammer)),)
    from cohort.tasking.v1 import work_pb2, work_pb2_grpc
    from cohort.types.v1 import submissions_pb2 as sub

    payload = sub.SubmissionPayload(preference=sub.PreferenceSubmission(ranking=["a", "b"]))
    async with grpc.aio.insecure_channel(f"127.0.0.1:{tasking_rt.grpc_port}") as channel:
        work = work_pb2_grpc.WorkServiceStub(channel)
        handed_in, refused, deadline, first, last = 0, 0, time.monotonic() + 60, 0.0, 0.0
        while refused < 20:  # ~4 s without an offer while 30+ tasks are open: stopped
            assert time.monotonic() < deadline, f"the spammer was never stopped ({handed_in} handed in)"
            reply = await work.AcquireTask(work_pb2.AcquireTaskRequest(project_id=project.project_id), metadata=md)
            if not reply.HasField("assignment"):
                refused += 1
                await asyncio.sleep(0.2)
                continue
            request = work_pb2.SubmitTaskRequest(assignment_id=reply.assignment.assignment_id, payload=payload)
            try:
                await work.SubmitTask(request, metadata=md)
            except grpc.aio.AioRpcError as err:
                # The gate closing between this acquire and submit ends the lease: refused too.
                assert err.code() == grpc.StatusCode.FAILED_PRECONDITION, err
                refused += 1
                continue
            handed_in, refused, last = handed_in + 1, 0, time.monotonic()
            first = first or last
    estimate = await qa.pool.fetchval("SELECT mean FROM expert_quality WHERE expert_id = $1", spammer)
    open_slots = await tasking_rt.pool.fetchval(
        "SELECT count(*) FROM slots WHERE project_id = $1::text::uuid AND open", project.project_id
    )
    assert estimate < 0.6 and open_slots > 20, f"gated at {estimate:.2f} with {open_slots} tasks still open"
    # How many get through, and how soon the gate closes, depend on how fast this machine lets the
    # spammer click: a timing, not a correctness property, so it is reported, not bounded.
    print(f"gate closed after {handed_in} submissions, {last - first:.2f} s after the first")  # noqa: T201
    assert handed_in >= 1, "the spammer was offered work before QA had judged them"
