"""Sign-in, sign-out, accepting an invitation, and the second factor."""

from __future__ import annotations

import grpc
from starlette.requests import Request
from starlette.responses import Response

from cohort.tasking.v1 import experts_pb2
from cohort_workbench.app import accounts
from cohort_workbench.app.accounts import AccountError, NewSession, Throttled
from cohort_workbench.backends import roles_of
from cohort_workbench.web.shell import Web, checked_form, render, require_session, see_other, signed_in, web


def _safe_next(target: str | None) -> str:
    # Only a path on this site: "//evil.example" or "https://…" would make sign-in an open redirect.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _start_session(request: Request, new: NewSession, target: str) -> Response:
    w = web(request)
    response = see_other(_safe_next(target))
    response.set_cookie(
        w.cookie.name,
        new.session_id,
        max_age=int(w.policy.absolute.total_seconds()),
        path="/",
        secure=w.cookie.secure,
        httponly=True,
        samesite="lax",
    )
    return response


async def sign_in_page(request: Request) -> Response:
    if await signed_in(request) is not None:
        return see_other("/")
    return render(request, "sign_in.html", None, next=_safe_next(request.query_params.get("next")))


async def sign_in(request: Request) -> Response:
    w = web(request)
    # Signing in is the one form without a session; SameSite=Lax and this being the only effect
    # (a new session for whoever knows the password) make a forged sign-in harmless.
    form = await checked_form(request, None)
    name = str(form.get("sign_in_name", "")).strip().lower()
    target = _safe_next(str(form.get("next", "/")))
    try:
        new = await accounts.sign_in(
            w.pool,
            name,
            str(form.get("password", "")),
            str(form.get("totp_code", "")),
            w.addresses.of(request),
            w.policy,
            w.throttles,
        )
    except Throttled as exc:
        w.metrics.sign_ins.labels("throttled").inc()
        return render(request, "sign_in.html", None, 429, error=exc.message, sign_in_name=name, next=target)
    except AccountError as exc:
        w.metrics.sign_ins.labels("failed").inc()
        return render(
            request,
            "sign_in.html",
            None,
            401,
            error=exc.message,
            sign_in_name=name,
            next=target,
            ask_code=exc.field == "totp_code",
        )
    if not await _standing_allows(w, new.expert_id):
        await accounts.sign_out_everywhere(w.pool, new.expert_id, w.recent)
        w.metrics.sign_ins.labels("closed").inc()
        message = "Your Cohort account is closed. Ask your Cohort contact if you think this is a mistake."
        return render(request, "sign_in.html", None, 403, error=message, sign_in_name=name, next=target)
    w.metrics.sign_ins.labels("ok").inc()
    return _start_session(request, new, target)


async def _standing_allows(w: Web, expert_id: str) -> bool:
    """Read the expert's profile in tasking at sign-in: an offboarded expert may not sign in, and the
    reviewer role follows the operator's current setting. When tasking cannot answer, the roles
    stored at the last sign-in stand (every backend still checks the expert's status itself)."""
    try:
        got = await w.backends.profile.GetMyProfile(
            experts_pb2.GetMyProfileRequest(), metadata=w.tokens.metadata(expert_id, ()), timeout=5
        )
    except grpc.aio.AioRpcError:
        return True
    if got.expert.status == experts_pb2.EXPERT_STATUS_OFFBOARDED:
        return False
    await accounts.set_roles(w.pool, expert_id, roles_of(got.expert))
    return True


async def sign_out(request: Request) -> Response:
    view = await require_session(request)
    form = await checked_form(request, view)
    w = web(request)
    if form.get("everywhere"):
        await accounts.sign_out_everywhere(w.pool, view.expert_id, w.recent)
    else:
        await accounts.sign_out(w.pool, view, w.recent)
    response = see_other("/sign-in")
    response.delete_cookie(w.cookie.name, path="/", secure=w.cookie.secure, httponly=True, samesite="lax")
    return response


async def invitation_page(request: Request) -> Response:
    w = web(request)
    token = request.path_params["token"]
    try:
        await accounts.open_invitation(w.pool, token)
    except AccountError as exc:
        return render(request, "error.html", None, 404, title="Invitation not valid", message=exc.message)
    return render(request, "invitation.html", None, token=token)


async def accept_invitation(request: Request) -> Response:
    w = web(request)
    token = request.path_params["token"]
    form = await checked_form(request, None)
    name = str(form.get("sign_in_name", "")).strip().lower()
    password = str(form.get("password", ""))
    if password != str(form.get("password_again", "")):
        errors = {"password_again": "The two passwords differ."}
        return render(request, "invitation.html", None, 422, token=token, sign_in_name=name, errors=errors)
    try:
        new = await accounts.accept_invitation(w.pool, token, name, password, w.policy, w.recent)
    except AccountError as exc:
        if not exc.field:
            return render(request, "error.html", None, 404, title="Invitation not valid", message=exc.message)
        errors = {exc.field: exc.message}
        return render(request, "invitation.html", None, 422, token=token, sign_in_name=name, errors=errors)
    w.metrics.invitations.labels("accepted").inc()
    return _start_session(request, new, "/")


async def totp_page(request: Request) -> Response:
    view = await require_session(request)
    secret = accounts.new_totp_secret()
    return render(
        request, "totp.html", view, secret=secret, uri=accounts.totp_uri(secret, view.sign_in_name), errors={}
    )


async def enrol_totp(request: Request) -> Response:
    view = await require_session(request)
    form = await checked_form(request, view)
    secret = str(form.get("secret", ""))
    try:
        await accounts.enrol_totp(web(request).pool, view.expert_id, secret, str(form.get("code", "")))
    except AccountError as exc:
        uri = accounts.totp_uri(secret, view.sign_in_name) if secret else ""
        return render(request, "totp.html", view, 422, secret=secret, uri=uri, errors={exc.field: exc.message})
    return see_other("/profile?notice=totp")
