"""What every page handler shares: the workbench's parts, the signed-in expert, CSRF, rendering,
and turning a backend's gRPC answer into a page an expert can act on (never a stack trace)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2, status_pb2
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from cohort_workbench.app import accounts
from cohort_workbench.app.accounts import RecentSessions, SessionView, Throttles
from cohort_workbench.backends import Backends, ExpertTokens, Metadata
from cohort_workbench.domain.sessions import SessionPolicy
from cohort_workbench.metrics import WebMetrics
from cohort_workbench.web import markdown
from cohort_workbench.web.security import ClientAddress, SessionCookie, csrf_ok

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).parent / "templates"
MAX_FORM_FIELDS = 1000


@dataclass
class Web:
    pool: asyncpg.Pool
    backends: Backends
    tokens: ExpertTokens
    metrics: WebMetrics
    cookie: SessionCookie
    addresses: ClientAddress
    policy: SessionPolicy
    throttles: Throttles
    # Sessions read in the last seconds; shared with the admin API, whose sign-outs must forget them.
    recent: RecentSessions
    backend_timeout: float = 10.0
    env: Environment = field(init=False)

    def __post_init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), enable_async=False
        )
        self.env.filters["markdown"] = markdown.render
        self.env.filters["when"] = _when
        self.env.filters["money"] = money

    def metadata(self, view: SessionView) -> Metadata:
        return self.tokens.metadata(view.expert_id, view.roles)


def web(request: Request) -> Web:
    return request.app.state.web  # type: ignore[no-any-return]


class Redirect(Exception):
    def __init__(self, location: str) -> None:
        self.location = location


class PageError(Exception):
    """A page that explains what went wrong and what to do."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


class Refused(Exception):
    def __init__(self, violations: list[tuple[str, str]], message: str) -> None:
        super().__init__(message)
        self.violations = violations
        self.message = message


async def signed_in(request: Request) -> SessionView | None:
    w = web(request)
    session_id = w.cookie.read(request)
    if session_id is None:
        return None
    return await accounts.session(w.pool, session_id, w.policy, w.recent)


async def require_session(request: Request, role: str | None = None) -> SessionView:
    view = await signed_in(request)
    if view is None:
        target = request.url.path if request.method == "GET" else "/"
        raise Redirect(f"/sign-in?next={quote(target)}")
    if role is not None and role not in view.roles:
        raise PageError(403, "Not available", "This page is for reviewers. Ask your Cohort contact about reviewing.")
    return view


async def checked_form(request: Request, view: SessionView | None) -> FormData:
    """The posted form, once its CSRF token matches the session's (a form field, or the
    X-CSRF-Token header that htmx and the page script send)."""
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    if view is not None:
        given = form.get("csrf_token") or request.headers.get("x-csrf-token")
        if not csrf_ok(view.csrf_token, str(given) if given is not None else None):
            raise PageError(403, "Form expired", "This form was not sent from your current session. Reload the page.")
    return form


def render(
    request: Request, template: str, view: SessionView | None, status: int = 200, **context: Any
) -> HTMLResponse:
    w = web(request)
    page = w.env.get_template(template).render(
        view=view,
        csrf_token=view.csrf_token if view else "",
        path=request.url.path,
        **context,
    )
    return HTMLResponse(page, status_code=status)


def see_other(location: str) -> Response:
    return RedirectResponse(location, status_code=303)


_PAGES = {
    grpc.StatusCode.NOT_FOUND: (404, "Not found", "There is nothing here, or it is not yours to see."),
    grpc.StatusCode.PERMISSION_DENIED: (403, "Not allowed", "Your account may not do this."),
    grpc.StatusCode.UNAUTHENTICATED: (503, "Try again", "The workbench could not vouch for you just now."),
    grpc.StatusCode.UNAVAILABLE: (503, "Try again shortly", "Part of Cohort is busy or restarting. Nothing was lost."),
    grpc.StatusCode.DEADLINE_EXCEEDED: (503, "Try again shortly", "Cohort took too long to answer. Nothing was lost."),
    grpc.StatusCode.RESOURCE_EXHAUSTED: (429, "Slow down", "Too many requests at once; wait a moment."),
}


@contextmanager
def backend(request: Request) -> Iterator[None]:
    """Map a backend's failure to a page (or, for bad input, to Refused for the form)."""
    try:
        yield
    except grpc.aio.AioRpcError as exc:
        code = exc.code()
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            raise Refused(field_violations(exc), exc.details() or "") from None
        if code in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.ABORTED):
            raise PageError(409, "Cannot do that now", exc.details() or "The state changed meanwhile.") from None
        if code not in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED):
            web(request).metrics.backend_errors.labels(code.name).inc()
            log.warning("backend call failed: %s %s", code.name, exc.details())
        status, title, message = _PAGES.get(code, (502, "Something went wrong", "Cohort could not do that just now."))
        raise PageError(status, title, message) from None


def field_violations(exc: grpc.aio.AioRpcError) -> list[tuple[str, str]]:
    """(field path, description) of a google.rpc.BadRequest in the error's status details."""
    out: list[tuple[str, str]] = []
    for key, value in exc.trailing_metadata() or ():
        if key != "grpc-status-details-bin" or not isinstance(value, bytes):
            continue
        status = status_pb2.Status.FromString(value)
        for detail in status.details:
            bad = error_details_pb2.BadRequest()
            if detail.Unpack(bad):
                out += [(v.field, v.description) for v in bad.field_violations]
    return out


def _when(ts: Timestamp | dt.datetime | None) -> str:
    if ts is None:
        return ""
    value = ts if isinstance(ts, dt.datetime) else ts.ToDatetime(tzinfo=dt.UTC)
    if value.timestamp() <= 0:
        return ""
    return value.strftime("%Y-%m-%d %H:%M UTC")


# ISO 4217 currencies whose minor unit is not a hundredth; every other has two decimals.
_DECIMALS = {
    "JPY": 0,
    "KRW": 0,
    "ISK": 0,
    "CLP": 0,
    "VND": 0,
    "UGX": 0,
    "BHD": 3,
    "KWD": 3,
    "JOD": 3,
    "OMR": 3,
    "TND": 3,
}


def money(amount_minor: int, currency: str) -> str:
    decimals = _DECIMALS.get(currency, 2)
    sign = "-" if amount_minor < 0 else ""
    whole, fraction = divmod(abs(int(amount_minor)), 10**decimals)
    return f"{sign}{whole:,}.{fraction:0{decimals}d} {currency}" if decimals else f"{sign}{whole:,} {currency}"
