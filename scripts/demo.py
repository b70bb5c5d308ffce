"""The platform's main job, end to end on the local stack (`make demo`).

An operator creates a lab and its API key and registers a population of simulated experts (some
accurate, some noisy, some biased, spammers, colluders, lease abandoners) and reviewers, with
payees. The lab creates a preference project from a spec, uploads tasks (a tenth of them gold)
and activates it. The simulated experts work through the real gRPC APIs until the lab's target is
delivered; QA checks, scores gold, queues reviews, decides, aggregates and finalizes items; payout
credits the ledger. Then a payout run writes a SEPA file, the lab exports its deliverables as
JSONL, and a report compares what was delivered with the hidden truth.

`--crowd rte` replays a real crowd instead: 100 items of the RTE textual-entailment dataset
(data/crowd, vendored with its source and licence) with each of their real workers as a
simulated expert answering exactly what that worker answered (`make demo-rte`).

`--kind rubric` runs a rubric-grade project instead (`make demo-rubric`): experts score answers on
three weighted criteria, QA takes each criterion's consensus, and the report compares the
delivered overall scores with the true ones and gives each criterion's Krippendorff alpha.

Reviewers make mistakes, as people do: two careful ones (right 95 % of the time) and a hasty one
(80 %, and lenient), so every figure that passes through review is honest about it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from schwifty import IBAN

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from cohort_client import AsyncLabClient, CohortError, LabClient
from cohort_client.channels import aio_channel
from cohort_client.lab import spec_from_dict
from cohort_client.operator import Endpoints, OperatorClient
from simulator import (  # type: ignore[import-not-found]
    FIELD,
    PROFILES,
    RUBRIC,
    SCALE,
    Simulation,
    preference_tasks,
    rte_crowd,
    rubric_right,
    rubric_tasks,
)

from cohort.payout.v1 import payees_pb2, runs_pb2
from cohort.qa.v1 import quality_pb2, quality_pb2_grpc
from cohort.tasking.v1 import experts_pb2
from cohort_qa.domain import dawid_skene
from cohort_runtime.tokens import issue_token

OUT = Path(__file__).resolve().parents[1] / ".local" / "demo"
CROWD = Path(os.environ.get("COHORT_CROWD_DATA", Path(__file__).resolve().parents[1] / "data" / "crowd"))
MIN_QUALITY = 0.6
"""The demo project's minimum quality: routing bars an expert QA is confident is below it."""
POPULATION = {"accurate": 14, "noisy": 4, "first_shown": 3, "spammer": 4, "colluder": 4, "abandoner": 2}
REVIEWERS = {"careful": 2, "hasty": 1}


def say(message: str) -> None:
    print(f"demo: {message}", flush=True)  # noqa: T201


def spec(tasks: int, kind: str = "preference", min_confidence: float | None = None) -> dict[str, object]:
    if kind == "rubric":
        low, high = SCALE
        criteria = [{"name": c, "weight": w, "scale_min": low, "scale_max": high} for c, w in RUBRIC]
        what = {
            "title": "How good is this mechanism explanation? (demo)",
            "data_kind": "DATA_KIND_RUBRIC_GRADE",
            "instructions_markdown": "Score the answer on each criterion, 1 (wrong) to 5 (what you would write).",
        }
    else:
        criteria = [{"name": "correct", "weight": 1.0, "scale_min": 1, "scale_max": 5}]
        what = {
            "title": "Which mechanism explanation is right? (demo)",
            "data_kind": "DATA_KIND_PREFERENCE",
            "instructions_markdown": "Pick the answer that explains the mechanism correctly.",
        }
    return {
        **what,
        "domain": FIELD,
        "qualifications": {"fields": ["chemistry"], "languages": ["en"], "minimum_quality": MIN_QUALITY},
        "rubric": {"criteria": criteria},
        "target_accepted_items": tasks,
        "overlap": 3,
        "max_overlap": 7,
        "gold_rate": 0.1,
        "review_sample_rate": 0.1,
        "pay": {"per_submission": {"rate_minor": 150}, "review_rate_minor": 60},
        "currency_code": "EUR",
        "budget_cap_minor": 500_000,
        "deadline": "2030-01-01T00:00:00Z",
        "lease_duration": "120s",
        # The platform's default is 0.8; the demo's lab wants fewer wrong items and pays for more judgments.
        **({"consensus": {"min_confidence": min_confidence}} if min_confidence else {}),
    }


async def simulate(sim: Simulation, project_id: str, private_key: str, lab_key: str, deadline: float) -> float:
    stop = asyncio.Event()
    async with (
        aio_channel("127.0.0.1:15052") as tasking,
        aio_channel("127.0.0.1:15053") as qa,
    ):

        def md(subject: str, *roles: str) -> tuple[tuple[str, str], ...]:
            token = issue_token(private_key, kind="expert", subject=subject, roles=roles)
            return (("authorization", f"Bearer {token}"),)

        workers = [asyncio.create_task(sim.expert(tasking, md(e), e, p, project_id, stop)) for e, p in sim.experts] + [
            asyncio.create_task(sim.reviewer(qa, md(r, "reviewer"), project_id, stop, r)) for r in sim.reviewers
        ]
        started = time.monotonic()
        async with AsyncLabClient("127.0.0.1:15051", lab_key) as lab:
            last = 0
            # The deadline also holds when no progress arrives at all.
            watch = lab.watch_progress(project_id)
            while True:
                try:
                    p = await asyncio.wait_for(anext(watch), timeout=max(1.0, deadline - time.monotonic()))
                except (TimeoutError, StopAsyncIteration):
                    say("the time is up before the target was delivered")
                    break
                done = p.items_delivered >= p.target_accepted_items
                if p.items_delivered != last and (p.items_delivered % 10 == 0 or done):
                    say(
                        f"{p.items_delivered}/{p.target_accepted_items} items delivered; submissions "
                        f"{p.submissions_accepted} accepted, {p.submissions_rejected} rejected; "
                        f"spent {p.spent_minor / 100:.2f} {p.currency_code}"
                    )
                last = p.items_delivered
                if done or time.monotonic() > deadline:
                    break
            await watch.aclose()  # type: ignore[attr-defined]
        operator = issue_token(private_key, kind="operator", subject="demo-operator")
        await settle_reworks(qa, (("authorization", f"Bearer {operator}"),), project_id, deadline)
        elapsed = time.monotonic() - started
        stop.set()
        await asyncio.gather(*workers, return_exceptions=True)
    return elapsed


REVISIT_SECONDS = 16.0
"""QA revisits a suspension's delivered items 5 s after it, in a pass every 10 s."""


async def settle_reworks(qa: Any, operator: tuple[tuple[str, str], ...], project_id: str, deadline: float) -> None:
    """The target counts first deliveries; items QA reopened for rework (their experts suspended
    since) are still being answered. The experts keep working until QA has had time to revisit
    every suspension and no rework is open."""
    stub = quality_pb2_grpc.QualityServiceStub(qa)
    request = quality_pb2.GetProjectQualityRequest(project_id=project_id)
    busy_at = time.monotonic()
    announced = -1
    while time.monotonic() < deadline:
        q = (await stub.GetProjectQuality(request, metadata=operator)).quality
        if q.reworks_open or q.revisits_pending:
            busy_at = time.monotonic()
            if q.reworks_open != announced:
                say(f"{q.reworks_open} items reopened for rework (their experts suspended since) still being answered")
                announced = q.reworks_open
        elif time.monotonic() - busy_at >= REVISIT_SECONDS:
            return
        await asyncio.sleep(1.0)
    say("the time is up with rework still open")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--tasks", type=int, default=0, help="tasks (default 250: ~30 submissions per expert; 100 with --crowd rte)"
    )
    parser.add_argument("--minutes", type=float, default=6.0)
    parser.add_argument(
        "--min-confidence",
        type=float,
        help="the lab's preference consensus bar, another judgment below it: 0.95 for the simulated crowd; "
        "unset (the platform's 0.8) for a replayed one, whose figures stay comparable with earlier runs",
    )
    parser.add_argument("--crowd", choices=["simulated", "rte"], default="simulated")
    parser.add_argument("--kind", choices=["preference", "rubric"], default="preference")
    args = parser.parse_args()
    if args.crowd == "rte" and args.kind != "preference":
        parser.error("the RTE crowd answered preference-like labels: --crowd rte needs --kind preference")
    OUT.mkdir(parents=True, exist_ok=True)
    private_key = Path(os.environ["COHORT_TOKEN_PRIVATE_KEY_FILE"]).read_text()
    operator_token = issue_token(private_key, kind="operator", subject="demo-operator")
    tag = uuid.uuid4().hex[:6]
    if args.crowd == "rte":
        tasks, replay = rte_crowd(CROWD / "rte.standardized.tsv", args.tasks or 100)
        # The real workers keep their ids (a replay is repeatable); a fresh tag keeps runs apart.
        replay = {f"{e}{tag}": answers for e, answers in replay.items()}
        experts = [(e, PROFILES["replay"]) for e in sorted(replay)]
        population = f"{len(experts)} replayed RTE workers"
    else:
        experts, _ = Simulation.population(POPULATION, 0, tag)
        make_tasks = rubric_tasks if args.kind == "rubric" else preference_tasks
        tasks, replay = make_tasks(args.tasks or 250, seed=int(tag, 16) % 1000), {}
        population = ", ".join(f"{n} {k}" for k, n in POPULATION.items())
    reviewer_profiles = Simulation.reviewer_population(REVIEWERS, tag)
    reviewers = list(reviewer_profiles)
    # RTE's texts are longer: QA's pace check (3 s + reading at 150 chars/s) asks for ~4.1 s a task.
    think = (4.6, 5.6) if args.crowd == "rte" else (3.3, 4.2)
    sim = Simulation(
        experts,
        reviewers,
        {t.task_id: t for t in tasks},
        think_seconds=think,
        replay=replay,
        reviewer_profiles=reviewer_profiles,
    )

    consensus_bar = args.min_confidence or (0.95 if args.crowd == "simulated" else None)
    with OperatorClient(Endpoints(), operator_token) as op:
        lab = op.create_lab(f"Demo Lab {tag}")
        key = op.create_api_key(lab.lab_id, "demo")
        say(f"operator: lab {lab.display_name} ({lab.lab_id}) with an API key")
        for i, profile in enumerate(Simulation.profiles(experts, reviewers)):
            op.register_expert(profile)
            iban = IBAN.generate("DE", bank_code="37040044", account_code=f"{i + 1:010d}")
            op.set_payee(
                payees_pb2.SetPayeeRequest(
                    expert_id=profile.expert_id, iban=iban.compact, account_holder=f"Expert {i}",
                    country_code="DE", currency_code="EUR",
                )
            )  # fmt: skip
        say(f"operator: {len(experts)} experts ({population}) "
            f"and {len(reviewers)} reviewers registered, with payees")  # fmt: skip
        invite_people(op, tag)

        with LabClient("127.0.0.1:15051", key) as lab_client:
            project = lab_client.create_project(spec_from_dict(spec(len(tasks), args.kind, consensus_bar)))
            added, _ = lab_client.add_tasks(project.project_id, [t.as_new_task() for t in tasks])
            lab_client.activate(project.project_id)
            pid = project.project_id
            say(f"lab: project {pid} with {added} tasks ({sum(t.gold for t in tasks)} gold) activated")

            elapsed = asyncio.run(simulate(sim, pid, private_key, key, time.monotonic() + args.minutes * 60))
            say(
                f"experts worked for {elapsed:.0f} s: {len(sim.judgments) + len(sim.grades)} submissions, "
                f"{sim.reviews} reviews"
            )

            exported = list(lab_client.export_items(pid))
            (OUT / "items.jsonl").write_text("".join(i.record_json + "\n" for i in exported))
            items, reworked = latest_items(exported)
            final = lab_client.get_project(pid)
            spent = next(iter(lab_client.watch_progress(pid))).spent_minor

        quality = op.project_quality(pid)
        estimates = {e: op.expert_quality(e) for e, _ in experts}
        judged = {r: op.reviewer_quality(r) for r in reviewers}
        time.sleep(2)  # the last verdicts' postings reach the ledger
        run = op.run_payouts("EUR", 1)
        payment_file = op.payment_file(run.run_id, runs_pb2.PAYMENT_RAIL_SEPA)
        sepa_path = OUT / payment_file.file_name
        sepa_path.write_bytes(payment_file.content)

    report(sim, items, quality, estimates, judged, run, payment_file, sepa_path, elapsed, final, spent, reworked)
    say("the stack keeps running: `make down` stops it (state and logs in .local/)")
    return 0


def invite_people(op: OperatorClient, tag: str) -> None:
    """One expert and one reviewer for a person to work as beside the simulated crowd, through the
    workbench: registered like the others, each with a fresh invitation link."""
    people = [
        experts_pb2.ExpertProfile(expert_id=f"exp_you{tag}", **Simulation.COMMON_PROFILE),
        experts_pb2.ExpertProfile(expert_id=f"exp_yourev{tag}", reviewer=True, **Simulation.COMMON_PROFILE),
    ]
    links = []
    for profile in people:
        op.register_expert(profile)
        links.append(op.invite_expert(profile.expert_id).invitation_url)
    url = os.environ.get("COHORT_WORKBENCH_PUBLIC_URL", "http://127.0.0.1:8088")
    say(f"workbench: {url}/ - join the crowd in a browser while it works (links work once, for 72 h):")
    say(f"  as an expert:  {links[0]}")
    say(f"  as a reviewer: {links[1]}")


def report(  # type: ignore[no-untyped-def]
    sim, items, quality, estimates, judged, run, payment_file, sepa_path, elapsed, project, project_spent, reworked
) -> None:
    bad = {e for e, p in sim.experts if p.spam or p.first_shown or p.collude}
    # Caught: suspended by QA, or barred by routing: QA is confident (its interval's upper bound)
    # they are below the project's minimum quality.
    flagged = set(quality.flagged_expert_ids) | {
        e for e, est in estimates.items() if any(q.upper < MIN_QUALITY or q.suspended for q in est)
    }
    caught = flagged & bad
    precision = len(caught) / len(flagged) if flagged else float("nan")
    if bad:
        # A caught expert is barred from the project, so what they handed in bounds how long it took.
        handed = sorted(sim.stats[e].submitted for e in caught)
        catch = (
            f"{len(flagged)} flagged: precision {precision:.2f}, recall {len(caught) / len(bad):.2f} "
            f"(spammers, position-biased, colluders: {len(bad)}); the caught ones handed in "
            f"{handed[len(handed) // 2] if handed else 0} submissions (median), {max(handed, default=0)} at most"
        )
    else:  # a replayed crowd has no planted bad experts: say whom QA rated low instead
        catch = f"{len(flagged)} of {len(sim.experts)} replayed workers confidently below {MIN_QUALITY} or suspended"
    items_path = ".local/demo/items.jsonl"
    spammers = [e for e, p in sim.experts if p.spam]
    by_kind: defaultdict[str, list[float]] = defaultdict(list)
    for e, p in sim.experts:
        by_kind[p.name] += [q.mean for q in estimates.get(e, [])]
    p50, p99 = sim.latency_ms()
    handed_in = len(sim.judgments) + len(sim.grades)
    lines = [
        "",
        "=== Cohort demo report ===",
        f"items delivered            {len(items)} (target {project.spec.target_accepted_items}) -> {items_path}; "
        f"{reworked} of them reworked after their experts were suspended (figures below: each task's latest item)",
        *(rubric_lines(sim, items, quality) if sim.grades else preference_lines(sim, items)),
        f"bad experts caught by QA   {catch}",
        f"spammers' submissions      {[sim.stats[e].submitted for e in spammers]} (QA rejects them as too fast)",
        "QA's quality estimates     " + ", ".join(
            f"{k} {statistics.fmean(v):.2f}" for k, v in by_kind.items() if v
        ),
        f"accuracy of the people     {people_accuracy(sim)}",
        f"reviewers' verdicts right  {reviewer_lines(sim, judged, quality)}",
        f"krippendorff alpha         {quality.krippendorff_alpha:.3f}; gold accuracy {quality.gold_accuracy:.3f}; "
        f"acceptance {quality.acceptance_rate:.3f}; reviewers' alpha {_or_none(quality.reviewer_agreement)}",
        f"payout run                 {run.payout_count} experts paid; SEPA file {payment_file.payment_count} payments, "
        f"{payment_file.total_minor / 100:.2f} EUR -> {sepa_path.relative_to(sepa_path.parents[2])}",
        f"cost per item              {project_spent / 100 / max(len(items), 1):.2f} EUR charged to the lab "
        f"(earnings, reviews, platform fee)",
        f"throughput                 {handed_in / elapsed:.1f} submissions/s over {elapsed:.0f} s",
        f"acquire latency            p50 {p50:.1f} ms, p99 {p99:.1f} ms",
    ]  # fmt: skip
    print("\n".join(lines), flush=True)  # noqa: T201


def latest_items(exported: list[Any]) -> tuple[list[Any], int]:
    """Each task's latest item (a rework's item supersedes the one it replaces: a lab keeps the
    latest), and how many were superseded."""
    superseded = {i.supersedes_item_id for i in exported if i.supersedes_item_id}
    return [i for i in exported if i.item_id not in superseded], len(superseded)


def _or_none(value: float) -> str:
    """QA reports NaN where there is nothing to compute it from (e.g. no double reviews yet)."""
    return "none yet" if math.isnan(value) else f"{value:.3f}"


def preference_lines(sim: Simulation, items: list[Any]) -> list[str]:
    right = 0
    for item in items:
        record = json.loads(item.record_json.splitlines()[0])
        chosen = record["chosen"] if isinstance(record["chosen"], str) else record["chosen"][-1]["content"]
        right += f"Answer {sim.tasks[item.task_id].better} to" in chosen
    accuracy = right / len(items) if items else float("nan")
    delivered = {item.task_id for item in items}
    baseline = sim.majority_accuracy(3, delivered)
    return [
        f"delivered label accuracy   {accuracy:.3f} vs {baseline:.3f} for a majority of 3 without QA (same items)",
        f"batch Dawid-Skene          {batch_dawid_skene_accuracy(sim, delivered):.3f} on every judgment handed in "
        "for those items (one offline fit, majority start, no prior; QA's rejected ones included)",
    ]


def batch_dawid_skene_accuracy(sim: Simulation, task_ids: set[str]) -> float:
    """What a lab could get offline from the same raw judgments: one Dawid-Skene fit over all of
    them (not only those QA accepted), scored against the truth."""
    judged = [(t, e, first) for t, e, first in sim.judgments if t in task_ids]
    if not judged:
        return float("nan")
    tasks = sorted({t for t, _, _ in judged})
    workers = sorted({e for _, e, _ in judged})
    classes = sorted({first for _, _, first in judged} | {sim.tasks[t].better for t in tasks})
    ti, wi, ci = ({v: i for i, v in enumerate(xs)} for xs in (tasks, workers, classes))
    fit = dawid_skene.fit(
        np.array([ti[t] for t, _, _ in judged]),
        np.array([wi[e] for _, e, _ in judged]),
        np.array([ci[c] for _, _, c in judged]),
        n_items=len(tasks), n_workers=len(workers), n_classes=len(classes),
    )  # fmt: skip
    chosen = fit.posteriors.argmax(axis=1)
    right: int = sum(classes[chosen[ti[t]]] == sim.tasks[t].better for t in tasks)
    return right / len(tasks)


def rubric_lines(sim: Simulation, items: list[Any], quality: Any) -> list[str]:
    """The delivered overall scores against the truth, beside what the mean of the first three
    grades handed in (no QA) would have given, and each criterion's alpha."""
    delivered = {i.task_id: json.loads(i.record_json)["overall"] for i in items}
    weights = dict(RUBRIC)
    first: defaultdict[str, list[float]] = defaultdict(list)
    for task, _expert, scores in sim.grades:
        if task in delivered and len(first[task]) < 3:
            first[task].append(sum(weights[c] * v for c, v in scores.items()))
    error = [abs(v - sim.tasks[t].overall) for t, v in delivered.items()]
    naive = [abs(statistics.fmean(v) - sim.tasks[t].overall) for t, v in first.items()]
    close = sum(e <= 0.5 for e in error)
    alphas = ", ".join(f"{c} {a:.3f}" for c, a in sorted(quality.criterion_alpha.items()))
    return [
        f"overall-score error        mean {statistics.fmean(error) if error else float('nan'):.3f} points "
        f"(scale {SCALE[0]}..{SCALE[1]}; {close}/{len(error)} within 0.5) vs "
        f"{statistics.fmean(naive) if naive else float('nan'):.3f} for the mean of 3 without QA (same items)",
        f"alpha per criterion        {alphas}",
    ]


def reviewer_lines(sim: Simulation, judged: dict[str, list[Any]], quality: Any) -> str:
    """Each reviewer profile's real share of right verdicts beside QA's estimate of it."""
    parts = []
    for name in sorted({p.name for p in sim.reviewer_profiles.values()}):
        mine = [r for r, p in sim.reviewer_profiles.items() if p.name == name]
        verdicts = [right == accept for r, right, accept in sim.review_log if r in mine]
        estimated = [q.mean for r in mine for q in judged.get(r, [])]
        evidence = sum(q.evidence for r in mine for q in judged.get(r, []))
        real = f"{sum(verdicts) / len(verdicts):.2f} of {len(verdicts)}" if verdicts else "no reviews"
        qa = f"{statistics.fmean(estimated):.2f} on {evidence} pieces" if estimated else "prior 0.80"
        parts.append(f"{name} {real}, QA {qa}")
    return "; ".join(parts) + f"; project estimate {quality.reviewer_accuracy:.2f}"


def people_accuracy(sim: Simulation) -> str:
    """The share of the crowd's answers that were right, honest experts apart, beside the share of
    reviews whose verdict matched the truth."""
    honest = {e for e, p in sim.experts if not (p.spam or p.first_shown or p.collude)}
    answers = [(e, sim.tasks[t].better == first) for t, e, first in sim.judgments]
    answers += [(e, rubric_right(scores, sim.tasks[t].scores)) for t, e, scores in sim.grades]
    own = [ok for e, ok in answers if e in honest]

    def share(xs: list[bool]) -> str:
        return f"{sum(xs) / len(xs):.3f}" if xs else "n/a"

    reviews = [right == accept for _r, right, accept in sim.review_log]
    return (
        f"experts {share([ok for _, ok in answers])} (honest ones {share(own)}); "
        f"reviewers {share(reviews)} over {len(reviews)} reviews"
    )


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CohortError as error:
        print(f"demo failed: {error}", file=sys.stderr)  # noqa: T201
        sys.exit(1)
