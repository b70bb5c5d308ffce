"""Reviewers over real gRPC: who may review what, rubric validation, the verdict a review makes,
idempotent retries, and who may read quality figures."""

from __future__ import annotations

import os
import uuid

import grpc
import pytest

from cohort.events.v1 import items_pb2, verdicts_pb2
from cohort.events.v1 import reviews_pb2 as review_events
from cohort.qa.v1 import quality_pb2 as qpb
from cohort.qa.v1 import reviews_pb2 as pb
from cohort.qa.v1 import verdicts_pb2 as vpb
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import tasks_pb2 as ttypes
from cohort_qa.domain import sampling
from cohort_runtime.pseudonyms import lab_pseudonym

from .conftest import pref, sft

ANSWER = (
    "Bond formation releases more energy than bond breaking absorbs, so the enthalpy change is negative; "
    "the activation energy only decides how fast that happens."
)


async def _code(call) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value.code()


async def test_review_authorization_validation_and_verdict(qa) -> None:
    lab = str(uuid.uuid4())
    pid = await qa.project("sft", tasks=2, overlap=1, review_rate=1.0, lab_id=lab)
    sid = await qa.submit(pid, "t0", "labeller", sft(ANSWER))
    assert await qa.state(sid, "in_review") == "in_review"

    plain_expert = qa.token("expert", "someone")
    labeller = await qa.reviewer("labeller")
    reviewer = await qa.reviewer("rev1")
    other = await qa.reviewer("rev2")

    assert await _code(qa.reviews.AcquireReview(pb.AcquireReviewRequest(), metadata=plain_expert)) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    assert await _code(qa.reviews.AcquireReview(pb.AcquireReviewRequest())) == grpc.StatusCode.UNAUTHENTICATED
    # Their own work (and any task they labelled) is never offered to a reviewer.
    mine = await qa.reviews.AcquireReview(pb.AcquireReviewRequest(project_id=pid), metadata=labeller)
    assert not mine.HasField("review")
    assert (
        await _code(qa.reviews.AcquireReview(pb.AcquireReviewRequest(project_id="nope"), metadata=reviewer))
        == grpc.StatusCode.INVALID_ARGUMENT
    )

    got = await qa.reviews.AcquireReview(pb.AcquireReviewRequest(project_id=pid), metadata=reviewer)
    review = got.review
    assert review.submission_id == sid and review.payload.sft.response == ANSWER
    assert review.input.prompt.startswith("Which answer") and [c.name for c in review.rubric.criteria] == [
        "accuracy",
        "clarity",
    ]
    assert list(review.review_reasons) == ["sampled"]
    # Leased: nobody else gets it meanwhile (a share of reviewed work has a second, calibration
    # review, which another reviewer may take).
    meanwhile = await qa.reviews.AcquireReview(pb.AcquireReviewRequest(), metadata=other)
    assert not meanwhile.HasField("review") or meanwhile.review.review_id != review.review_id

    bad = [
        pb.SubmitReviewRequest(review_id=review.review_id, scores={"accuracy": 5}, verdict=pb.REVIEW_VERDICT_ACCEPT),
        pb.SubmitReviewRequest(
            review_id=review.review_id, scores={"accuracy": 5, "clarity": 9}, verdict=pb.REVIEW_VERDICT_ACCEPT
        ),
        pb.SubmitReviewRequest(review_id=review.review_id, scores={"accuracy": 5, "clarity": 4}),
        pb.SubmitReviewRequest(
            review_id=review.review_id, scores={"accuracy": 1, "clarity": 1}, verdict=pb.REVIEW_VERDICT_REJECT
        ),
    ]
    for request in bad:
        assert await _code(qa.reviews.SubmitReview(request, metadata=reviewer)) == grpc.StatusCode.INVALID_ARGUMENT
    good = pb.SubmitReviewRequest(
        review_id=review.review_id, scores={"accuracy": 5, "clarity": 4}, verdict=pb.REVIEW_VERDICT_ACCEPT
    )
    assert await _code(qa.reviews.SubmitReview(good, metadata=other)) == grpc.StatusCode.NOT_FOUND
    assert await qa.state(sid, "in_review") == "in_review", "rejected calls left no partial state"

    done = await qa.reviews.SubmitReview(good, metadata=reviewer)
    assert done.decided_submission and abs(done.weighted_total - (5 * 0.7 + 4 * 0.3)) < 1e-9
    again = await qa.reviews.SubmitReview(good, metadata=reviewer)  # a retried call
    assert not again.decided_submission and again.weighted_total == done.weighted_total
    (completed,) = await qa.published(review_events.ReviewCompleted)  # paid once, however often retried
    assert (completed.review_id, completed.reviewer_id, completed.deciding) == (review.review_id, "rev1", True)
    changed = pb.SubmitReviewRequest(
        review_id=review.review_id, scores={"accuracy": 1, "clarity": 1}, verdict=pb.REVIEW_VERDICT_ACCEPT
    )
    assert await _code(qa.reviews.SubmitReview(changed, metadata=reviewer)) == grpc.StatusCode.FAILED_PRECONDITION

    assert await qa.state(sid, "accepted") == "accepted"
    assert [m.submission_id for m in await qa.published(verdicts_pb2.SubmissionAccepted)] == [sid]
    (item,) = await qa.published(items_pb2.ItemFinalized)
    assert item.sft.response == ANSWER and list(item.quality.reviewer_scores) == [done.weighted_total]
    assert item.expert_ids == ["labeller"]

    # Quality figures: the project's lab and operators; other labs do not learn the project exists.
    request = qpb.GetProjectQualityRequest(project_id=pid)
    own = await qa.quality.GetProjectQuality(request, metadata=qa.token("lab", lab))
    assert own.quality.accepted == 1 and own.quality.items_finalized == 1
    assert (
        await _code(qa.quality.GetProjectQuality(request, metadata=qa.token("lab", str(uuid.uuid4()))))
        == grpc.StatusCode.NOT_FOUND
    )
    assert await _code(qa.quality.GetProjectQuality(request, metadata=plain_expert)) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    # A flagged expert: operators see who; the lab sees its own pseudonym for them, never the id.
    await qa.pool.execute(
        """INSERT INTO project_suspensions (expert_id, project_id, reasons, as_of)
           VALUES ('labeller', $1, '{spam}', now())""",
        uuid.UUID(pid),
    )
    as_operator = await qa.quality.GetProjectQuality(request, metadata=qa.operator)
    assert list(as_operator.quality.flagged_expert_ids) == ["labeller"]
    as_lab = await qa.quality.GetProjectQuality(request, metadata=qa.token("lab", lab))
    key = os.environ["COHORT_PSEUDONYM_KEY"].encode()
    assert list(as_lab.quality.flagged_expert_ids) == [lab_pseudonym(key, lab, "labeller")]
    missing = qpb.GetProjectQualityRequest(project_id=str(uuid.uuid4()))
    assert await _code(qa.quality.GetProjectQuality(missing, metadata=plain_expert)) == (
        grpc.StatusCode.PERMISSION_DENIED
    ), "an expert cannot tell a real project from a missing one"
    mine_q = await qa.quality.GetExpertQuality(qpb.GetExpertQualityRequest(expert_id="labeller"), metadata=labeller)
    (estimate,) = mine_q.estimates
    assert estimate.domain == "chemistry.organic" and estimate.evidence == 1 and estimate.mean > 0.75
    assert (
        await _code(qa.quality.GetExpertQuality(qpb.GetExpertQualityRequest(expert_id="labeller"), metadata=reviewer))
        == grpc.StatusCode.PERMISSION_DENIED
    )


async def test_a_rejecting_review_rejects_and_release_gives_the_review_back(qa) -> None:
    pid = await qa.project("sft", tasks=1, overlap=1, review_rate=1.0)
    sid = await qa.submit(pid, "t0", "labeller", sft(ANSWER))
    await qa.state(sid, "in_review")
    first = await qa.reviewer("rev1")
    second = await qa.reviewer("rev2")
    review = (await qa.reviews.AcquireReview(pb.AcquireReviewRequest(), metadata=first)).review
    await qa.reviews.ReleaseReview(pb.ReleaseReviewRequest(review_id=review.review_id), metadata=first)
    assert (
        await _code(qa.reviews.ReleaseReview(pb.ReleaseReviewRequest(review_id=review.review_id), metadata=first))
        == grpc.StatusCode.NOT_FOUND
    )
    again = (await qa.reviews.AcquireReview(pb.AcquireReviewRequest(), metadata=second)).review
    assert again.review_id == review.review_id
    await qa.reviews.SubmitReview(
        pb.SubmitReviewRequest(
            review_id=again.review_id,
            scores={"accuracy": 1, "clarity": 2},
            verdict=pb.REVIEW_VERDICT_REJECT,
            comments="The answer confuses rate with enthalpy.",
        ),
        metadata=second,
    )
    assert await qa.state(sid, "rejected") == "rejected"
    (rejected,) = await qa.published(verdicts_pb2.SubmissionRejected)
    assert list(rejected.reasons) == ["sampled", "reviewer_rejected"]
    assert await qa.published(items_pb2.ItemFinalized) == []

    # The labeller reads the verdict and the comment; why it was reviewed stays QA's business.
    mine = await qa.verdicts.ListMyVerdicts(vpb.ListMyVerdictsRequest(), metadata=qa.token("expert", "labeller"))
    (verdict,) = [v for v in mine.verdicts if v.submission_id == sid]
    assert verdict.state == vpb.VERDICT_STATE_REJECTED and list(verdict.reasons) == ["reviewer_rejected"]
    assert verdict.reviewer_comment == "The answer confuses rate with enthalpy." and verdict.HasField("decide_time")
    theirs = await qa.verdicts.ListMyVerdicts(vpb.ListMyVerdictsRequest(), metadata=second)
    assert sid not in [v.submission_id for v in theirs.verdicts], "only the caller's own work"
    assert (
        await _code(qa.verdicts.ListMyVerdicts(vpb.ListMyVerdictsRequest(), metadata=qa.token("operator", "op")))
        == grpc.StatusCode.PERMISSION_DENIED
    )


async def test_verdicts_page_newest_first(qa) -> None:
    pid = await qa.project("sft", tasks=3, overlap=1, review_rate=0.0)
    expert = f"pager{uuid.uuid4().hex[:8]}"
    sids = []
    for i in range(3):  # one at a time: QA numbers submissions in the order it receives them
        sids.append(await qa.submit(pid, f"t{i}", expert, sft(ANSWER + f" ({i})")))
        await qa.state(sids[-1], "waiting", "in_review", "accepted", "rejected")
    creds = qa.token("expert", expert)
    first = await qa.verdicts.ListMyVerdicts(vpb.ListMyVerdictsRequest(page_size=2), metadata=creds)
    assert [v.submission_id for v in first.verdicts] == sids[::-1][:2] and first.next_page_token
    rest = await qa.verdicts.ListMyVerdicts(
        vpb.ListMyVerdictsRequest(page_size=2, page_token=first.next_page_token), metadata=creds
    )
    assert [v.submission_id for v in rest.verdicts] == sids[:1] and not rest.next_page_token
    forged = await _code(
        qa.verdicts.ListMyVerdicts(
            vpb.ListMyVerdictsRequest(page_size=2, page_token=first.next_page_token), metadata=qa.token("expert", "x")
        )
    )
    assert forged == grpc.StatusCode.INVALID_ARGUMENT, "another expert's token is not valid for this caller"


async def test_a_reviewer_below_the_bar_gets_no_reviews(qa) -> None:
    pid = await qa.project("sft", tasks=1, overlap=1, review_rate=1.0)
    sid = await qa.submit(pid, "t0", "labeller", sft(ANSWER))
    await qa.state(sid, "in_review")
    await qa.pool.execute(
        """INSERT INTO expert_quality (expert_id, domain, successes, failures, pieces, mean)
           VALUES ('weak', 'chemistry.organic', 2, 8, 10, 0.4)"""
    )
    weak = await qa.reviewer("weak")
    assert (
        await _code(qa.reviews.AcquireReview(pb.AcquireReviewRequest(project_id=pid), metadata=weak))
        == grpc.StatusCode.PERMISSION_DENIED
    )
    assert not (await qa.reviews.AcquireReview(pb.AcquireReviewRequest(), metadata=weak)).HasField("review")


def _ids(wanted: int, draw) -> list[str]:
    """Submission ids the deterministic sampling draws (sampling is fixed by the id)."""
    out: list[str] = []
    while len(out) < wanted:
        candidate = uuid.uuid4()
        if draw(candidate):
            out.append(str(candidate))
    return out


async def test_reviewers_are_judged_against_gold_and_a_contrary_one_stops_reviewing(qa) -> None:
    """Gold-scored work sampled for review measures the reviewer: one whose verdicts always
    contradict gold is, after ten such reviews, confidently below the floor and offered no more;
    one who follows gold rises above the prior. The project's reviewer accuracy is their mean."""
    gold = {f"t{i}": ttypes.GoldReference(ranking=["a", "b"]) for i in range(12)}
    lab = str(uuid.uuid4())
    pid = await qa.project("preference", tasks=12, overlap=1, gold=gold, lab_id=lab)
    ids = _ids(12, sampling.gold_review)
    right = {}
    for i, sid in enumerate(ids):
        right[sid] = i % 2 == 0
        ranking = ("a", "b") if right[sid] else ("b", "a")
        await qa.submit(pid, f"t{i}", f"labeller{i}", pref(*ranking), is_gold=True, submission_id=sid)
    for sid in ids:
        assert await qa.state(sid, "accepted", "rejected") == ("accepted" if right[sid] else "rejected")
    queued = await qa.pool.fetchval(
        "SELECT count(*) FROM reviews WHERE slot = 1 AND submission_id = ANY($1::uuid[])", [uuid.UUID(s) for s in ids]
    )
    assert queued == 12, "every sampled gold submission waits for a (non-deciding) review"

    async def review_as(creds, agree_with_gold: bool) -> bool:
        got = await qa.reviews.AcquireReview(pb.AcquireReviewRequest(project_id=pid), metadata=creds)
        if not got.HasField("review"):
            return False
        accept = right[got.review.submission_id] == agree_with_gold
        done = await qa.reviews.SubmitReview(
            pb.SubmitReviewRequest(
                review_id=got.review.review_id,
                scores={"accuracy": 5 if accept else 1, "clarity": 3},
                verdict=pb.REVIEW_VERDICT_ACCEPT if accept else pb.REVIEW_VERDICT_REJECT,
                comments="" if accept else "The other answer is right.",
            ),
            metadata=creds,
        )
        assert not done.decided_submission, "gold decided the work; the review only measures the reviewer"
        return True

    contrary, careful = await qa.reviewer("contrary"), await qa.reviewer("careful")
    for _ in range(10):
        assert await review_as(contrary, agree_with_gold=False)
    assert await _code(qa.reviews.AcquireReview(pb.AcquireReviewRequest(project_id=pid), metadata=contrary)) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    assert not (await qa.reviews.AcquireReview(pb.AcquireReviewRequest(), metadata=contrary)).HasField("review")
    assert await review_as(careful, agree_with_gold=True) and await review_as(careful, agree_with_gold=True)

    ask = qa.quality.GetExpertQuality
    standing = await ask(qpb.GetExpertQualityRequest(expert_id="contrary"), metadata=qa.operator)
    (as_reviewer,) = standing.reviewer_estimates
    assert as_reviewer.evidence == 10 and as_reviewer.mean < 0.3 and as_reviewer.suspended
    (good,) = (await ask(qpb.GetExpertQualityRequest(expert_id="careful"), metadata=qa.operator)).reviewer_estimates
    assert good.mean > 0.8 and not good.suspended
    project = (
        await qa.quality.GetProjectQuality(qpb.GetProjectQualityRequest(project_id=pid), metadata=qa.operator)
    ).quality
    expected = (10 * as_reviewer.mean + 2 * good.mean) / 12
    assert abs(project.reviewer_accuracy - expected) < 1e-9


async def test_a_double_review_judges_both_reviewers_by_their_agreement(qa) -> None:
    pid = await qa.project("sft", tasks=2, overlap=1, review_rate=1.0)
    (agreeing, disagreeing) = _ids(2, sampling.calibration)
    await qa.submit(pid, "t0", "labeller", sft(ANSWER), submission_id=agreeing)
    other = "Catalysts lower the activation energy of both directions alike, so they speed up reaching equilibrium."
    await qa.submit(pid, "t1", "labeller2", sft(other), submission_id=disagreeing)
    await qa.state(agreeing, "in_review")
    await qa.state(disagreeing, "in_review")

    async def verdicts(reviewer: str, accepts: dict[str, bool]) -> None:
        creds = await qa.reviewer(reviewer)
        for _ in range(2):
            review = (await qa.reviews.AcquireReview(pb.AcquireReviewRequest(project_id=pid), metadata=creds)).review
            accept = accepts[review.submission_id]
            await qa.reviews.SubmitReview(
                pb.SubmitReviewRequest(
                    review_id=review.review_id,
                    scores={"accuracy": 4, "clarity": 4} if accept else {"accuracy": 1, "clarity": 1},
                    verdict=pb.REVIEW_VERDICT_ACCEPT if accept else pb.REVIEW_VERDICT_REJECT,
                    comments="" if accept else "Not what was asked.",
                ),
                metadata=creds,
            )

    await verdicts("first", {agreeing: True, disagreeing: True})
    await verdicts("second", {agreeing: True, disagreeing: False})
    rows = {
        r["reviewer_id"]: (r["successes"], r["failures"], r["pieces"])
        for r in await qa.pool.fetch("SELECT * FROM reviewer_quality")
    }
    # One agreement and one disagreement each, at half weight.
    assert rows == {"first": (0.5, 0.5, 2), "second": (0.5, 0.5, 2)}


async def test_reviewers_are_routed_like_experts(qa) -> None:
    """Walls, fields, degree and languages bind reviewers too; a suspension in tasking ends their
    reviews; asking for the project says why."""
    lab = str(uuid.uuid4())
    needs = types.Qualifications(minimum_degree=types.DEGREE_LEVEL_MASTER, fields=["chemistry"], languages=["en"])
    pid = await qa.project("sft", tasks=1, overlap=1, review_rate=1.0, lab_id=lab, qualifications=needs)
    sid = await qa.submit(pid, "t0", "labeller", sft(ANSWER))
    await qa.state(sid, "in_review")
    ask = pb.AcquireReviewRequest(project_id=pid)
    refused = {
        "walled": await qa.reviewer("walled", blocked_lab_ids=(lab,)),
        "physicist": await qa.reviewer("physicist", fields=("physics.classical",)),
        "student": await qa.reviewer("student", degree=types.DEGREE_LEVEL_STUDENT),
        "germanonly": await qa.reviewer("germanonly", languages=("de",)),
        "notreviewer": await qa.reviewer("notreviewer", reviewer=False),
        "unknown": qa.token("expert", "unknown", "reviewer"),
    }
    for name, creds in refused.items():
        assert not (await qa.reviews.AcquireReview(pb.AcquireReviewRequest(), metadata=creds)).HasField("review"), name
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await qa.reviews.AcquireReview(ask, metadata=creds)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED and "may not review" in err.value.details(), name
    assert "walled off" in (await _details(qa.reviews.AcquireReview(ask, metadata=refused["walled"])))

    chemist = await qa.reviewer("chemist", fields=("chemistry.organic",))  # a subfield of the required field
    await qa.person("chemist", active=False)  # suspended in tasking meanwhile
    assert "not active" in (await _details(qa.reviews.AcquireReview(ask, metadata=chemist)))
    await qa.person("chemist", fields=("chemistry.organic",))  # reinstated
    got = await qa.reviews.AcquireReview(ask, metadata=chemist)
    assert got.review.submission_id == sid


async def _details(call) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value.details() or ""
