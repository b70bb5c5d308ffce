"""The review queue (reviewer role): lease a review, read the submission and the rubric, accept or
reject with a comment (required to reject), or give it back."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from cohort.qa.v1 import reviews_pb2
from cohort_workbench.app.accounts import SessionView, now
from cohort_workbench.db import work as repo
from cohort_workbench.web.overview_pages import KIND_NAMES, notice
from cohort_workbench.web.shell import (
    PageError,
    Refused,
    backend,
    checked_form,
    render,
    require_session,
    see_other,
    web,
)

REVIEWER = "reviewer"


async def queue(request: Request) -> Response:
    view = await require_session(request, REVIEWER)
    return render(request, "review_queue.html", view, notice=notice(request))


async def start(request: Request) -> Response:
    view = await require_session(request, REVIEWER)
    await checked_form(request, view)
    w = web(request)
    with backend(request):
        got = await w.backends.reviews.AcquireReview(
            reviews_pb2.AcquireReviewRequest(), metadata=w.metadata(view), timeout=w.backend_timeout
        )
    if not got.HasField("review"):
        return see_other("/review?notice=no-review")
    async with w.pool.acquire() as conn:
        await repo.save_review(
            conn, uuid.UUID(got.review.review_id), view.expert_id, got.review.SerializeToString(), now()
        )
    return see_other(f"/review/{got.review.review_id}")


async def _review(request: Request, view: SessionView) -> reviews_pb2.Review:
    try:
        rid = uuid.UUID(request.path_params["review_id"])
    except ValueError:
        raise PageError(404, "Not found", "There is no such review.") from None
    async with web(request).pool.acquire() as conn:
        raw = await repo.review(conn, view.expert_id, rid)
    if raw is None:
        raise PageError(404, "Not found", "There is no such review, or it is not yours.")
    return reviews_pb2.Review.FromString(raw)


def _page(
    request: Request,
    view: SessionView,
    review: reviews_pb2.Review,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "review.html",
        view,
        status,
        r=review,
        kind_name=KIND_NAMES.get(review.data_kind, ""),
        values=values,
        errors=errors,
    )


async def show(request: Request) -> Response:
    view = await require_session(request, REVIEWER)
    return _page(request, view, await _review(request, view), {}, {})


async def submit(request: Request) -> Response:
    view = await require_session(request, REVIEWER)
    form = await checked_form(request, view)
    review = await _review(request, view)
    w = web(request)
    values: dict[str, Any] = {k: str(v) for k, v in form.multi_items() if k != "csrf_token"}
    errors: dict[str, str] = {}
    scores: dict[str, int] = {}
    for c in review.rubric.criteria:
        raw = values.get(f"score.{c.name}", "")
        if not raw.lstrip("-").isdigit() or len(raw) > 6:
            errors[f"score.{c.name}"] = f"Choose a score from {c.scale_min} to {c.scale_max}."
        else:
            scores[c.name] = int(raw)
    verdict = {"accept": reviews_pb2.REVIEW_VERDICT_ACCEPT, "reject": reviews_pb2.REVIEW_VERDICT_REJECT}.get(
        values.get("verdict", "")
    )
    comments = values.get("comments", "").strip()
    if verdict is None:
        errors["verdict"] = "Choose accept or reject."
    elif verdict == reviews_pb2.REVIEW_VERDICT_REJECT and not comments:
        errors["comments"] = "Say what is wrong: the expert reads this comment."
    if errors or verdict is None:
        return _page(request, view, review, values, errors, 422)
    try:
        with backend(request):
            await w.backends.reviews.SubmitReview(
                reviews_pb2.SubmitReviewRequest(
                    review_id=review.review_id, scores=scores, verdict=verdict, comments=comments
                ),
                metadata=w.metadata(view),
                timeout=w.backend_timeout,
            )
    except Refused as exc:
        shown = {_review_field(path): text for path, text in exc.violations} or {"": exc.message}
        return _page(request, view, review, values, shown, 422)
    async with w.pool.acquire() as conn:
        await repo.forget_review(conn, view.expert_id, uuid.UUID(review.review_id))
    return see_other("/review?notice=reviewed")


def _review_field(path: str) -> str:
    if path.startswith("scores[") and path.endswith("]"):
        return f"score.{path[7:-1]}"
    return path if path in ("verdict", "comments") else ""


async def release(request: Request) -> Response:
    view = await require_session(request, REVIEWER)
    await checked_form(request, view)
    review = await _review(request, view)
    w = web(request)
    try:
        with backend(request):
            await w.backends.reviews.ReleaseReview(
                reviews_pb2.ReleaseReviewRequest(review_id=review.review_id),
                metadata=w.metadata(view),
                timeout=w.backend_timeout,
            )
    except PageError as exc:
        if exc.status not in (404, 409):
            raise
    async with w.pool.acquire() as conn:
        await repo.forget_review(conn, view.expert_id, uuid.UUID(review.review_id))
    return see_other("/review?notice=released")
