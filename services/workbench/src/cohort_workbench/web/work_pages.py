"""Working a task: lease, show it by kind, heartbeat, autosave, release, submit (and next).

A lease taken here is stored with the task as tasking returned it, scoped to the expert, so a reload
shows the same task and another expert's assignment id answers 404 like a missing one. What the
expert types is autosaved as a draft and put back on every render, also after a refused submit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from cohort.tasking.v1 import work_pb2
from cohort.types.v1 import projects_pb2 as types
from cohort_workbench.app.accounts import SessionView, now
from cohort_workbench.db import work as repo
from cohort_workbench.web import forms
from cohort_workbench.web.markdown import render as render_markdown
from cohort_workbench.web.overview_pages import KIND_NAMES
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

# Submissions retried after a lost reply carry the same key (AIP-155): tasking answers with the
# first call's submission instead of "already submitted".
_REQUEST_IDS = uuid.UUID("0b9f3a52-52a4-4c0e-9a55-3c1f6f0ac3e1")
# A task page shown within this time of its lease trusts the expiry tasking gave with the lease;
# later it asks again. Saves a tasking call on the page that follows every submit-and-next.
FRESH_LEASE = dt.timedelta(seconds=30)


def _assignment_id(request: Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.path_params["assignment_id"])
    except ValueError:
        raise PageError(404, "Not found", "There is no such task.") from None


def _leased_until(a: work_pb2.Assignment) -> dt.datetime:
    # The expiry tasking last gave; a refused submit shows it rather than none (the page's next
    # heartbeat brings the true one).
    return a.expire_time.ToDatetime(tzinfo=dt.UTC)


def _shown(a: work_pb2.Assignment) -> list[str]:
    """The order tasking gave this assignment to show its candidates in (QA judges position bias
    by it); the input's own order for a lease tasking gave none."""
    return list(a.display_order) or [c.candidate_id for c in a.input.candidates]


async def _remember(request: Request, view: SessionView, a: work_pb2.Assignment) -> None:
    order = _shown(a)
    async with web(request).pool.acquire() as conn:
        await repo.save_lease(conn, uuid.UUID(a.assignment_id), view.expert_id, a.SerializeToString(), order, now())


async def start(request: Request) -> Response:
    view = await require_session(request)
    form = await checked_form(request, view)
    w = web(request)
    project_id = str(form.get("project_id", ""))[:64]
    with backend(request):
        got = await w.backends.work.AcquireTask(
            work_pb2.AcquireTaskRequest(project_id=project_id), metadata=w.metadata(view), timeout=w.backend_timeout
        )
    if not got.HasField("assignment"):
        return see_other("/?notice=none")
    await _remember(request, view, got.assignment)
    return see_other(f"/work/{got.assignment.assignment_id}")


@dataclass(frozen=True)
class _Held:
    assignment: work_pb2.Assignment
    order: list[str]
    draft: dict[str, Any]
    leased: dt.datetime


async def _lease(request: Request, view: SessionView) -> _Held:
    aid = _assignment_id(request)
    async with web(request).pool.acquire() as conn:
        found = await repo.lease(conn, view.expert_id, aid)
    if found is None:
        raise PageError(404, "Not found", "There is no such task, or it is not yours.")
    row, draft = found
    return _Held(work_pb2.Assignment.FromString(row.assignment), list(row.display_order), draft or {}, row.create_time)


def _task_page(
    request: Request,
    view: SessionView,
    a: work_pb2.Assignment,
    order: list[str],
    fields: dict[str, Any],
    expire: dt.datetime | None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    case = forms.CASE_OF_KIND.get(a.data_kind, "")
    candidates = {c.candidate_id: c for c in a.input.candidates}
    shown = [candidates[cid] for cid in order if cid in candidates]
    ranking = [cid for cid in fields.get("ranking") or [] if cid in candidates]
    if a.data_kind == types.DATA_KIND_PREFERENCE:
        ranking += [cid for cid in order if cid not in ranking]
    steps = forms.steps_of(fields) or [{"kind": "thought", "content": "", "tool_name": "", "tool_arguments_json": ""}]
    return render(
        request,
        "work.html",
        view,
        status,
        a=a,
        case=case,
        kind_name=KIND_NAMES.get(a.data_kind, ""),
        shown=shown,
        ranking=[candidates[cid] for cid in ranking],
        position={cid: i + 1 for i, cid in enumerate(order)},
        steps=steps,
        fields=fields,
        errors=errors or {},
        expire_iso=expire.isoformat() if expire else "",
        request_id=str(uuid.uuid5(_REQUEST_IDS, a.assignment_id)),
    )


async def _beat(request: Request, view: SessionView, a: work_pb2.Assignment) -> dt.datetime:
    """Extend the lease in tasking; its new expiry (PageError 404/409 when it has ended)."""
    w = web(request)
    with backend(request):
        beat = await w.backends.work.Heartbeat(
            work_pb2.HeartbeatRequest(assignment_id=a.assignment_id),
            metadata=w.metadata(view),
            timeout=w.backend_timeout,
        )
    return beat.expire_time.ToDatetime(tzinfo=dt.UTC)


async def task(request: Request) -> Response:
    view = await require_session(request)
    held = await _lease(request, view)
    a, order, fields = held.assignment, held.order, held.draft
    if now() - held.leased < FRESH_LEASE:
        # Just leased: tasking's answer is seconds old, its expiry still true.
        return _task_page(request, view, a, order, fields, _leased_until(a))
    # An older lease: the page asks tasking whether it still lives (a heartbeat), so the countdown
    # starts from the true expiry, and an ended lease says so instead of taking work it cannot submit.
    try:
        expire = await _beat(request, view, a)
    except PageError as exc:
        if exc.status in (404, 409):
            return render(request, "lease_ended.html", view, 410, fields=fields)
        raise
    return _task_page(request, view, a, order, fields, expire)


async def heartbeat(request: Request) -> Response:
    view = await require_session(request)
    await checked_form(request, view)
    a = (await _lease(request, view)).assignment
    try:
        expire = await _beat(request, view, a)
    except PageError as exc:
        return JSONResponse({"ended": exc.status in (404, 409), "message": exc.message}, status_code=exc.status)
    return JSONResponse({"expire_time": expire.isoformat()})


async def save_draft(request: Request) -> Response:
    view = await require_session(request)
    form = await checked_form(request, view)
    a = (await _lease(request, view)).assignment
    fields = forms.fields_from_form(form, forms.CASE_OF_KIND[a.data_kind])
    at = now()
    async with web(request).pool.acquire() as conn:
        saved = await repo.save_draft(conn, view.expert_id, uuid.UUID(a.assignment_id), fields, at)
    if not saved:
        raise PageError(404, "Not found", "There is no such task, or it is not yours.")
    return HTMLResponse(f"Draft saved {at:%H:%M:%S} UTC")


async def preview(request: Request) -> Response:
    view = await require_session(request)
    form = await checked_form(request, view)
    name = str(form.get("preview_of", ""))
    return HTMLResponse(str(render_markdown(str(form.get(name, ""))[:60_000])) if name else "")


async def release(request: Request) -> Response:
    view = await require_session(request)
    await checked_form(request, view)
    a = (await _lease(request, view)).assignment
    w = web(request)
    try:
        with backend(request):
            await w.backends.work.ReleaseTask(
                work_pb2.ReleaseTaskRequest(assignment_id=a.assignment_id),
                metadata=w.metadata(view),
                timeout=w.backend_timeout,
            )
    except PageError as exc:
        if exc.status not in (404, 409):  # already ended: forgetting it is all that is left to do
            raise
    async with w.pool.acquire() as conn:
        await repo.forget_lease(conn, view.expert_id, uuid.UUID(a.assignment_id))
    return see_other("/?notice=released")


async def submit(request: Request) -> Response:
    view = await require_session(request)
    form = await checked_form(request, view)
    held = await _lease(request, view)
    a, order = held.assignment, held.order
    w = web(request)
    case = forms.CASE_OF_KIND[a.data_kind]
    fields = forms.fields_from_form(form, case)
    aid = uuid.UUID(a.assignment_id)

    async def keep_draft() -> None:  # a submit that did not go through loses nothing typed
        async with w.pool.acquire() as conn:
            await repo.save_draft(conn, view.expert_id, aid, fields, now())

    payload, errors = forms.payload_of(fields, case)
    if errors:
        await keep_draft()
        return _task_page(request, view, a, order, fields, _leased_until(a), errors, 422)
    want_next = form.get("then") == "next"
    request_body = work_pb2.SubmitTaskRequest(
        assignment_id=a.assignment_id, payload=payload, request_id=str(uuid.uuid5(_REQUEST_IDS, a.assignment_id))
    )
    if want_next:  # the next task of the same project: an expert keeps to the work they chose
        request_body.acquire_next.CopyFrom(work_pb2.AcquireTaskRequest(project_id=a.project_id))
    try:
        with backend(request):
            done = await w.backends.work.SubmitTask(request_body, metadata=w.metadata(view), timeout=w.backend_timeout)
    except Refused as exc:
        await keep_draft()
        shown = {forms.form_field(path): text for path, text in exc.violations} or {"": exc.message}
        return _task_page(request, view, a, order, fields, _leased_until(a), shown, 422)
    except PageError:
        await keep_draft()
        raise
    following = done.next_assignment if done.HasField("next_assignment") else None
    async with w.pool.acquire() as conn:
        if following is None:
            await repo.forget_lease(conn, view.expert_id, aid)
        else:
            order = _shown(following)
            next_id = uuid.UUID(following.assignment_id)
            await repo.replace_lease(conn, view.expert_id, aid, next_id, following.SerializeToString(), order, now())
    if following is not None:
        return see_other(f"/work/{following.assignment_id}")
    return see_other("/?notice=submitted" if not want_next else "/?notice=none")
