"""Authentication hook of the gRPC edge: who is calling, available to servicers as `current_principal()`.

A service hands the server an `Authenticator`; it sees the method name and the `authorization`
bearer credential and returns a `Principal`, or raises `Unauthenticated`. Health and reflection
stay open so probes and grpcurl work without credentials.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import grpc

from cohort_runtime._handler_wrap import Context, GuardInterceptor
from cohort_runtime.errors import PermissionDenied, ResourceExhausted, Unauthenticated
from cohort_runtime.quotas import EdgeLimits, peer_address

OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")

LAB = "lab"
EXPERT = "expert"
OPERATOR = "operator"
REVIEWER_ROLE = "reviewer"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: `kind` is lab, expert, reviewer or operator; `subject` its id."""

    kind: str
    subject: str
    roles: frozenset[str] = field(default_factory=frozenset)
    # The API key that authenticated a lab, when a key (not a token) did.
    key_id: str | None = None


Authenticator = Callable[[str, str | None], Awaitable[Principal]]
"""(full method name, bearer credential or None) -> Principal, or raise Unauthenticated."""

_current: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("cohort_principal", default=None)


def current_principal() -> Principal:
    principal = _current.get()
    if principal is None:
        raise Unauthenticated("no authenticated caller")
    return principal


def require_kind(kind: str, what: str = "this call") -> Principal:
    """The caller, when it is of `kind`; PERMISSION_DENIED naming what needed it otherwise."""
    principal = current_principal()
    if principal.kind != kind:
        article = "an" if kind[0] in "aeiou" else "a"
        raise PermissionDenied(f"{what} needs {article} {kind} token")
    return principal


def require_operator(what: str = "this call") -> Principal:
    return require_kind(OPERATOR, what)


def require_expert(what: str = "this call") -> str:
    """The calling expert's id."""
    return require_kind(EXPERT, what).subject


def require_reviewer(what: str = "this call") -> str:
    """The calling expert's id, when their token carries the reviewer role."""
    principal = current_principal()
    if principal.kind == EXPERT and REVIEWER_ROLE in principal.roles:
        return principal.subject
    raise PermissionDenied(f"{what} needs an expert token with the reviewer role")


def require_self_or_operator(expert_id: str, what: str = "this call") -> Principal:
    """An operator, or the expert `expert_id` themselves."""
    principal = current_principal()
    if principal.kind == OPERATOR or (principal.kind == EXPERT and principal.subject == expert_id):
        return principal
    raise PermissionDenied(f"{what} is open to that expert and operators only")


@dataclass(frozen=True)
class LabScope:
    """What a lab-or-operator call may read: one lab's resources, or (for an operator) anyone's."""

    lab_id: str | None

    def covers(self, owner_lab_id: object) -> bool:
        return self.lab_id is None or self.lab_id == str(owner_lab_id)


def require_lab_scope(what: str = "this call") -> LabScope:
    """For calls a lab makes on its own resources and an operator on anyone's. Checked before any
    lookup, so other callers get the same answer whether the resource exists or not; a lab asking
    for another lab's resource should then be told NOT_FOUND (`covers`), so that not even its
    existence leaks."""
    principal = current_principal()
    if principal.kind == OPERATOR:
        return LabScope(None)
    if principal.kind == LAB:
        return LabScope(principal.subject)
    raise PermissionDenied(f"{what} needs the owning lab's or an operator's token")


def bearer_credential(metadata: Iterable[tuple[str, str | bytes]] | None) -> str | None:
    for key, value in metadata or ():
        if key.lower() == "authorization":
            text = value.decode() if isinstance(value, bytes) else value
            scheme, _, credential = text.partition(" ")
            if scheme.lower() != "bearer" or not credential.strip():
                raise Unauthenticated("authorization metadata must be 'Bearer <credential>'")
            return credential.strip()
    return None


def _forwarded_for(metadata: Iterable[tuple[str, str | bytes]] | None) -> str | None:
    for key, value in metadata or ():
        if key.lower() == "x-forwarded-for":
            return value.decode(errors="replace") if isinstance(value, bytes) else value
    return None


def auth_interceptor(authenticator: Authenticator, limits: EdgeLimits | None = None) -> grpc.aio.ServerInterceptor:
    """Authenticates every call but health and reflection. With `limits`: an address that failed
    authentication too often is refused before its credential is looked at (API keys cost a
    database lookup), and each caller gets a token bucket of requests; both answer
    RESOURCE_EXHAUSTED with the time to wait in RetryInfo."""

    @asynccontextmanager
    async def authenticate(context: Context, method: str) -> AsyncIterator[None]:
        metadata = context.invocation_metadata()
        address = ""
        if limits is not None:
            address = limits.proxies.client(peer_address(context.peer()), _forwarded_for(metadata))
            wait = limits.failures.blocked_for(address)
            if wait:
                raise ResourceExhausted(
                    "too many failed authentications from this address; try again later",
                    subject=f"address:{address}",
                    retry_after_seconds=wait,
                )
        try:
            principal = await authenticator(method, bearer_credential(metadata))
        except Unauthenticated:
            if limits is not None:
                limits.failures.failed(address)
            raise
        if limits is not None:
            wait = limits.requests.take(f"{principal.kind}:{principal.subject}")
            if wait:
                raise ResourceExhausted(
                    f"more than {limits.requests.rate:g} requests a second from this caller; slow down",
                    subject=f"{principal.kind}:{principal.subject}",
                    retry_after_seconds=wait,
                )
        token = _current.set(principal)
        try:
            yield
        finally:
            _current.reset(token)

    return GuardInterceptor(authenticate, applies_to=lambda m: not m.startswith(OPEN_SERVICES))
