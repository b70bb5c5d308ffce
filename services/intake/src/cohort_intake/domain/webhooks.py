"""Webhooks: which events a lab can subscribe to, what makes an endpoint valid, when a failed
delivery is tried again, and which addresses a delivery may never be sent to."""

from __future__ import annotations

import base64
import datetime as dt
import enum
import ipaddress
import random
import secrets
import urllib.parse
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from cohort_runtime.domain_errors import Violation


class EventType(enum.StrEnum):
    ITEMS_DELIVERED = "items.delivered"
    """A batch of a project's items became exportable."""
    PROJECT_MILESTONE = "project.milestone"
    """A project's delivered items reached 25, 50, 75 or 100 % of its target."""
    PROJECT_COMPLETED = "project.completed"
    PROJECT_PAUSED = "project.paused"
    """Paused by its budget cap (a lab's own pause is not announced back to it)."""
    PROJECT_COST_UPDATED = "project.cost_updated"
    """What the project has spent crossed another tenth of its budget cap."""
    SCREENING_FINISHED = "screening.finished"
    """QA decided an expert's screening test of the project (the expert by the lab's pseudonym)."""
    AUDIT_DISPUTE_DECIDED = "audit.dispute_decided"
    """QA decided an item the lab rejected in an audit: upheld or dismissed, with comments."""
    AUDIT_ITEM_REWORKED = "audit.item_reworked"
    """The rework of an upheld item was delivered: the item that replaces it, and its revision."""
    ITEM_SUPERSEDED = "item.superseded"
    """A new revision of a delivered item was delivered, for whatever reason it was reworked (an
    upheld dispute, or QA suspended experts the item rested on): keep the new one."""


class EndpointState(enum.StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
    FAILING = "failing"


@dataclass(frozen=True)
class Endpoint:
    url: str
    event_types: tuple[EventType, ...]
    description: str = ""


@dataclass(frozen=True)
class StoredEndpoint:
    """An endpoint as registered, with where it stands."""

    endpoint_id: uuid.UUID
    lab_id: uuid.UUID
    endpoint: Endpoint
    state: EndpointState
    failing_reason: str
    previous_until: dt.datetime | None
    create_time: dt.datetime
    update_time: dt.datetime


@dataclass(frozen=True)
class StoredDelivery:
    """One message to one endpoint, and how its attempts went."""

    delivery_id: uuid.UUID
    message_id: str
    endpoint_id: uuid.UUID
    event_type: str
    payload: str
    state: str
    attempts: int
    next_attempt_at: dt.datetime | None
    last_status: int
    last_error: str
    last_latency_ms: float | None
    create_time: dt.datetime
    deliver_time: dt.datetime | None


MILESTONES = (25, 50, 75, 100)
MAX_URL = 2000
MAX_DESCRIPTION = 500
SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's marker, not a secret


def endpoint(url: str, event_types: Sequence[str], description: str) -> Endpoint:
    """The endpoint as stored (trimmed, event types once each); check `problems` first."""
    return Endpoint(url.strip(), tuple(EventType(t) for t in dict.fromkeys(event_types)), description.strip())


def problems(url: str, event_types: Sequence[str], description: str, prefix: str = "endpoint") -> list[Violation]:
    """What is wrong with an endpoint as a lab sent it, with field paths under `prefix`."""
    out: list[Violation] = []
    parsed = urllib.parse.urlsplit(url.strip())
    if len(url) > MAX_URL:
        out.append(Violation(f"{prefix}.url", f"must be at most {MAX_URL} characters"))
    elif parsed.scheme not in ("https", "http") or not parsed.hostname:
        out.append(Violation(f"{prefix}.url", "must be an absolute https URL"))
    elif parsed.username or parsed.password:
        out.append(Violation(f"{prefix}.url", "must not carry credentials (use the signature to authenticate)"))
    elif parsed.fragment:
        out.append(Violation(f"{prefix}.url", "must not have a fragment"))
    if not event_types:
        out.append(Violation(f"{prefix}.event_types", "must name at least one event type"))
    known = {t.value for t in EventType}
    for i, t in enumerate(event_types):
        if t not in known:
            out.append(Violation(f"{prefix}.event_types[{i}]", f"unknown event type; one of {sorted(known)}"))
    if len(description) > MAX_DESCRIPTION:
        out.append(Violation(f"{prefix}.description", f"must be at most {MAX_DESCRIPTION} characters"))
    return out


def new_secret() -> str:
    """A Standard Webhooks signing secret: 'whsec_' and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def retry_delay(attempts: int, schedule: Sequence[float], rng: random.Random) -> float | None:
    """Seconds until the next attempt after `attempts` failed ones, with ±20 % jitter so that many
    deliveries failing together do not retry together; None once the schedule is used up."""
    if attempts > len(schedule):
        return None
    base = schedule[attempts - 1]
    return base * rng.uniform(0.8, 1.2)


def milestones_crossed(before: int, after: int, target: int) -> list[int]:
    """The percentages of `target` that `after` reaches and `before` did not."""
    if target <= 0:
        return []
    return [m for m in MILESTONES if before * 100 < m * target <= after * 100]


def cost_step_crossed(before: int, after: int, cap: int) -> bool:
    """Whether spending moved into another tenth of the budget cap."""
    if cap <= 0:
        return False
    return before * 10 // cap != after * 10 // cap


def refused_address(address: str, allowed: Sequence[str]) -> str | None:
    """Why a delivery may not go to `address` (an IP), or None. Private, loopback, link-local
    (cloud metadata lives there), multicast and reserved addresses are refused unless an allowed
    network contains them: a lab must not reach the platform's own network through a webhook."""
    ip = ipaddress.ip_address(address)
    if any(ip in ipaddress.ip_network(net, strict=False) for net in allowed):
        return None
    if ip.is_global and not ip.is_multicast:
        return None
    return f"{address} is not a public address"
