"""The browser-facing edge: security headers on every response, the session cookie, CSRF, and the
client address behind a trusted proxy."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cohort_runtime.quotas import TrustedProxies

# Nothing inline, nothing from another origin: scripts, styles and fonts come from /static only.
# KaTeX sets its sizes through the DOM (allowed), never through style attributes in markup.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]
_NO_STORE = (b"cache-control", b"no-store")
_HSTS = (b"strict-transport-security", b"max-age=31536000")


class SecurityHeaders:
    """Adds the headers to every response; pages (not static files) are never cached, since they
    show an expert's own work and money."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += _HEADERS
                if not static:
                    headers.append(_NO_STORE)
                if self.https:
                    headers.append(_HSTS)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class SessionCookie:
    """The session cookie: HttpOnly, SameSite=Lax; Secure with the __Host- prefix (bound to this
    host, path /) unless running on plain HTTP locally."""

    def __init__(self, secure: bool) -> None:
        self.secure = secure
        self.name = "__Host-cohort_session" if secure else "cohort_session"

    def read(self, request: Request) -> str | None:
        value = request.cookies.get(self.name)
        return value if value and len(value) <= 128 else None


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and secrets.compare_digest(expected.encode(), str(given).encode())


class ClientAddress:
    """The client's address: the direct peer, or the last X-Forwarded-For hop when the peer is a
    trusted proxy (the ingress); anything else there could be written by the client."""

    def __init__(self, trusted: str) -> None:
        self._proxies = TrustedProxies(trusted)

    def of(self, request: Request) -> str:
        peer = request.client.host if request.client else "unknown"
        return self._proxies.client(peer, request.headers.get("x-forwarded-for"))
