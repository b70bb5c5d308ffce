"""Submissions through QA over real Kafka and Postgres: checks, gold, verdicts, aggregation,
adaptive overlap, quality updates, and one verdict per submission however often it arrives."""

from __future__ import annotations

import uuid

from cohort.events.v1 import items_pb2, quality_pb2, verdicts_pb2
from cohort.qa.v1 import quality_pb2 as quality_api
from cohort.types.v1 import tasks_pb2 as ttypes

from .conftest import CANDIDATES, PROMPT, grade, pref, sft

LONG = (
    "Bond formation releases more energy than bond breaking absorbs, so the enthalpy change is negative "
    "and the surroundings warm up; the activation energy only decides how fast that happens."
)


async def test_preferences_are_checked_scored_against_gold_aggregated_and_finalized(qa) -> None:
    gold = {"t2": ttypes.GoldReference(ranking=["a", "b"])}
    pid = await qa.project("preference", tasks=3, overlap=3, gold=gold)
    experts = ["e1", "e2", "e3"]
    ids = {}
    for e, (first, second) in zip(experts, [("a", "b"), ("a", "b"), ("b", "a")], strict=True):
        ids[(e, "t0")] = await qa.submit(pid, "t0", e, pref(first, second))
    ids[("e1", "t2")] = await qa.submit(pid, "t2", "e1", pref("a", "b"), is_gold=True)
    ids[("e3", "t2")] = await qa.submit(pid, "t2", "e3", pref("b", "a"), is_gold=True)
    ids[("e2", "t1")] = await qa.submit(pid, "t1", "e2", pref("a", "a"))  # names a candidate twice
    for sid in ids.values():
        await qa.state(sid, "accepted", "rejected")

    rejected = {m.submission_id: list(m.reasons) for m in await qa.published(verdicts_pb2.SubmissionRejected)}
    accepted = {m.submission_id for m in await qa.published(verdicts_pb2.SubmissionAccepted)}
    assert rejected == {ids[("e3", "t2")]: ["gold_mismatch"], ids[("e2", "t1")]: ["intransitive_ranking"]}
    assert accepted == {ids[(e, "t0")] for e in experts} | {ids[("e1", "t2")]}
    # Each rejection leaves its task a judgment short: tasking is asked for one more.
    requests = await qa.published(quality_pb2.ExtraJudgmentsRequested)
    assert sorted((r.task_id, r.additional) for r in requests) == [("t1", 1), ("t2", 1)]

    (item,) = await qa.published(items_pb2.ItemFinalized)
    assert item.task_id == "t0" and list(item.preference.ranking) == ["a", "b"]
    assert sorted(item.expert_ids) == experts
    assert 0.5 < item.quality.confidence <= 1 and abs(item.quality.agreement - 1 / 3) < 1e-9
    assert (item.instructions_version, item.rubric_version) == (3, 2)

    updates = await qa.published(quality_pb2.ExpertQualityUpdated)
    by_expert: dict[str, list[float]] = {}
    for u in updates:
        by_expert.setdefault(u.expert_id, []).append(u.mean)
        assert u.domain == "chemistry.organic" and u.lower <= u.mean <= u.upper
    # e1 answered gold right and agreed with the item; e3 missed gold and disagreed.
    assert by_expert["e1"][-1] > 0.75 > by_expert["e3"][-1]

    report = await qa.quality.GetProjectQuality(
        quality_api.GetProjectQualityRequest(project_id=pid), metadata=qa.operator
    )
    q = report.quality
    assert (q.submissions, q.accepted, q.rejected, q.items_finalized) == (6, 4, 2, 1)
    assert q.gold_accuracy == 0.5
    assert dict(q.rejection_reasons) == {"gold_mismatch": 1, "intransitive_ranking": 1}
    assert q.alpha_level == "nominal"


async def test_free_text_checks_reject_with_reason_codes(qa) -> None:
    pid = await qa.project("sft", tasks=4, overlap=1)
    short = await qa.submit(pid, "t0", "e1", sft("Heat."))
    copied = await qa.submit(pid, "t1", "e2", sft(CANDIDATES[0][1]))
    prompt = await qa.submit(pid, "t2", "e3", sft(f"{PROMPT} #2"))
    fast = await qa.submit(pid, "t3", "e4", sft(LONG), active_seconds=4)
    original = await qa.submit(pid, "t0", "e5", sft(LONG))
    await qa.state(original, "accepted")  # t0 and t1 may sit on different partitions: order them
    near_copy = await qa.submit(pid, "t1", "e6", sft(LONG + " Indeed."))
    for sid in (short, copied, prompt, fast, original, near_copy):
        await qa.state(sid, "accepted", "rejected")
    reasons = {m.submission_id: list(m.reasons) for m in await qa.published(verdicts_pb2.SubmissionRejected)}
    assert reasons == {
        short: ["too_short"],
        copied: ["copied_candidate"],
        prompt: ["copied_prompt"],
        fast: ["too_fast"],
        near_copy: ["near_duplicate"],
    }
    assert [m.submission_id for m in await qa.published(verdicts_pb2.SubmissionAccepted)] == [original]
    (item,) = await qa.published(items_pb2.ItemFinalized)
    assert item.task_id == "t0" and item.sft.response == LONG


async def test_a_redelivered_submission_gets_no_second_verdict(qa) -> None:
    pid = await qa.project("sft", tasks=1, overlap=2)
    first = await qa.submit(pid, "t0", "e1", sft(LONG), event_id="fixed-event-id")
    await qa.submit(pid, "t0", "e1", sft(LONG), submission_id=first, event_id="fixed-event-id")  # same event
    await qa.submit(pid, "t0", "e1", sft(LONG), submission_id=first)  # same submission, new event id
    marker = await qa.submit(pid, "t0", "e2", sft(LONG + " Also, entropy."))
    await qa.state(marker, "accepted", "rejected")
    verdicts = [m.submission_id for m in await qa.published(verdicts_pb2.SubmissionAccepted)]
    verdicts += [m.submission_id for m in await qa.published(verdicts_pb2.SubmissionRejected)]
    assert sorted(verdicts) == sorted([first, marker])
    assert await qa.pool.fetchval("SELECT count(*) FROM submissions") == 2


async def test_split_judgments_request_more_until_the_maximum_overlap(qa) -> None:
    pid = await qa.project("preference", tasks=1, overlap=2, max_overlap=3)
    a = await qa.submit(pid, "t0", "e1", pref("a", "b"))
    b = await qa.submit(pid, "t0", "e2", pref("b", "a"))
    await qa.state(a, "accepted")
    await qa.state(b, "accepted")
    await qa.until(lambda: qa.published(quality_pb2.ExtraJudgmentsRequested), "an extra-judgment request")
    (request,) = await qa.published(quality_pb2.ExtraJudgmentsRequested)
    assert (request.project_id, request.task_id, request.additional) == (pid, "t0", 1)
    assert await qa.published(items_pb2.ItemFinalized) == []
    c = await qa.submit(pid, "t0", "e3", pref("a", "b"))
    await qa.state(c, "accepted")
    await qa.until(lambda: qa.published(items_pb2.ItemFinalized), "the item")
    (item,) = await qa.published(items_pb2.ItemFinalized)
    assert list(item.preference.ranking) == ["a", "b"] and len(item.expert_ids) == 3
    assert len(await qa.published(quality_pb2.ExtraJudgmentsRequested)) == 1


async def test_rejected_answers_are_replaced_beyond_the_maximum_overlap(qa) -> None:
    """The maximum overlap counts answers that can stand: two spammers' rejected answers do not
    leave a task of maximum overlap 3 with one judgment; each asks tasking for a replacement."""
    pid = await qa.project("preference", tasks=1, overlap=2, max_overlap=3)
    spam = [await qa.submit(pid, "t0", f"s{i}", pref("b", "a"), active_seconds=0) for i in range(2)]
    for s in spam:
        await qa.state(s, "rejected")

    async def both_requested() -> bool:
        return len(await qa.published(quality_pb2.ExtraJudgmentsRequested)) >= 2

    await qa.until(both_requested, "two replacement requests")
    requests = await qa.published(quality_pb2.ExtraJudgmentsRequested)
    assert [(r.task_id, r.additional, r.replaces_rejected) for r in requests] == [("t0", 1, True)] * 2
    good = await qa.submit(pid, "t0", "e1", pref("a", "b"))
    await qa.state(good, "accepted")
    assert await qa.published(items_pb2.ItemFinalized) == [], "3 slots decided, 1 accepted: more can come"
    second = await qa.submit(pid, "t0", "e2", pref("a", "b"))
    await qa.state(second, "accepted")
    await qa.until(lambda: qa.published(items_pb2.ItemFinalized), "the item from the two accepted judgments")
    (item,) = await qa.published(items_pb2.ItemFinalized)
    assert sorted(item.expert_ids) == ["e1", "e2"]


async def test_rejections_that_use_up_the_slot_ceiling_finalize_with_what_there_is(qa) -> None:
    """Tasking opens at most twice the maximum overlap of slots, replacements included: when
    every possible submission is in and decided, the item is made from the accepted ones instead
    of waiting forever for a judgment that cannot come (a demo run stalled so)."""
    pid = await qa.project("preference", tasks=1, overlap=2, max_overlap=3)
    spam = [await qa.submit(pid, "t0", f"s{i}", pref("b", "a"), active_seconds=0) for i in range(5)]
    for s in spam:
        await qa.state(s, "rejected")
    assert await qa.published(items_pb2.ItemFinalized) == []
    good = await qa.submit(pid, "t0", "e1", pref("a", "b"))
    await qa.state(good, "accepted")
    await qa.until(lambda: qa.published(items_pb2.ItemFinalized), "the item from the one accepted judgment")
    (item,) = await qa.published(items_pb2.ItemFinalized)
    assert list(item.preference.ranking) == ["a", "b"] and list(item.expert_ids) == ["e1"]


async def test_submissions_before_their_project_wait_and_are_then_judged(qa) -> None:
    pid = str(uuid.uuid4())
    early = await qa.submit(pid, "t0", "e1", sft("x"))
    await qa.state(early, "waiting")
    # The project arrives later (another topic): the waiting work is judged then.
    await qa.project("sft", tasks=1, project_id=pid)
    assert await qa.state(early, "rejected") == "rejected"
    (rejected,) = await qa.published(verdicts_pb2.SubmissionRejected)
    assert list(rejected.reasons) == ["too_short"]


async def test_an_expert_who_always_picks_the_first_shown_goes_to_review(qa) -> None:
    pid = await qa.project("preference", tasks=30, overlap=1)
    ids = [await qa.submit(pid, f"t{i}", "lazy", pref("a", "b")) for i in range(30)]
    states = [await qa.state(sid, "accepted", "in_review") for sid in ids]
    # Chance alone (p = 1/2) cannot explain 20 first choices out of 20: from then on a human looks
    # (a batch is judged on the counts after it, so a whole batch may tip over together).
    assert states.count("in_review") >= 11 and states.count("accepted") <= 19
    reasons = await qa.pool.fetch("SELECT DISTINCT reasons FROM reviews")
    assert [r["reasons"] for r in reasons] == [["position_bias"]]
    # 20 of 20 is beyond doubt (p < 1e-6): suspended in the project, and tasking is told once.
    suspended = await qa.pool.fetch("SELECT expert_id, reasons FROM project_suspensions WHERE project_id = $1", pid)
    assert [(s["expert_id"], s["reasons"]) for s in suspended] == [("lazy", ["position_bias"])]
    announced = [
        (u.expert_id, u.project_id, list(u.reasons))
        for u in await qa.published(quality_pb2.ExpertQualityUpdated)
        if u.suspended
    ]
    assert announced == [("lazy", pid, ["position_bias"])]


async def test_position_bias_is_judged_against_the_order_each_expert_was_shown(qa) -> None:
    """Tasking shows each assignment's candidates in an order of its own. An expert who always
    prefers candidate a, whichever place it is shown in, favours a candidate, not a position; one
    who always takes the first shown favours a position, whichever candidate is there."""
    pid = await qa.project("preference", tasks=30, overlap=2)
    orders = [("a", "b") if i % 2 else ("b", "a") for i in range(30)]
    steady = [
        await qa.submit(pid, f"t{i}", "steady", pref("a", "b"), shown_order=order) for i, order in enumerate(orders)
    ]
    lazy = [
        await qa.submit(pid, f"t{i}", "lazy", pref(order[0], order[1]), shown_order=order)
        for i, order in enumerate(orders)
    ]
    for sid in steady + lazy:
        await qa.state(sid, "accepted", "in_review")

    async def flagged(expert: str) -> int:
        return await qa.pool.fetchval(
            "SELECT count(*) FROM submissions WHERE expert_id = $1 AND 'position_bias' = ANY(reasons)", expert
        )

    assert await flagged("steady") == 0, "choosing one candidate wherever it is shown is no position bias"
    assert await flagged("lazy") >= 11


async def test_experts_suspended_in_the_project_do_not_outvote_the_others(qa) -> None:
    pid = await qa.project("preference", tasks=1, overlap=3, max_overlap=3)
    await qa.pool.executemany(
        "INSERT INTO project_suspensions (expert_id, project_id, reasons, as_of) VALUES ($1, $2, $3, now())",
        [(e, uuid.UUID(pid), ["collusion_suspected"]) for e in ("c1", "c2")],
    )
    for expert, ranking in (("c1", ("b", "a")), ("c2", ("b", "a")), ("e1", ("a", "b"))):
        await qa.state(await qa.submit(pid, "t0", expert, pref(*ranking)), "accepted")
    await qa.until(lambda: qa.published(items_pb2.ItemFinalized), "the item")
    (item,) = await qa.published(items_pb2.ItemFinalized)
    assert list(item.preference.ranking) == ["a", "b"], "two suspended votes against one count as none"
    assert sorted(item.expert_ids) == ["c1", "c2", "e1"]


async def test_a_rubric_grader_who_straight_lines_is_suspended_in_the_project(qa) -> None:
    """Four honest graders vary their grades; the fifth gives both criteria 5 on every item and
    is suspended for straight-lining once a dozen flat grades are beyond doubt, announced once."""
    pid = await qa.project("rubric_grade", tasks=15, overlap=5)
    for i in range(15):
        for e in range(4):
            await qa.submit(pid, f"t{i}", f"honest{e}", grade(accuracy=1 + (i + e) % 5, clarity=1 + (i + e + 1) % 5))
        await qa.submit(pid, f"t{i}", "flat", grade(accuracy=5, clarity=5))

    async def suspended():
        return await qa.pool.fetch(
            "SELECT expert_id, reasons FROM project_suspensions WHERE project_id = $1", uuid.UUID(pid)
        )

    await qa.until(suspended, "the straight-liner's suspension")
    await qa.until(
        lambda: qa.pool.fetchval(
            "SELECT count(*) = 75 FROM submissions WHERE project_id = $1 AND state <> 'waiting'", uuid.UUID(pid)
        ),
        "every grade judged",
    )
    assert [(s["expert_id"], s["reasons"]) for s in await suspended()] == [("flat", ["straight_lining"])]
    announced = [u for u in await qa.published(quality_pb2.ExpertQualityUpdated) if u.suspended and u.project_id == pid]
    assert [(u.expert_id, list(u.reasons)) for u in announced] == [("flat", ["straight_lining"])]
