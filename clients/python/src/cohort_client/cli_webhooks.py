"""`cohort webhook …`: a lab's webhook endpoints and their delivery log."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from cohort_client.cli_common import ApiKey, lab_client, out, reported, show, show_many

app = typer.Typer(help="Lab: webhook endpoints (Standard Webhooks) and their deliveries.", no_args_is_help=True)

Events = Annotated[
    list[str],
    typer.Option("--event", help="An event type to receive (repeat): items.delivered, project.milestone, "
                 "project.completed, project.paused, project.cost_updated, screening.finished, "
                 "audit.dispute_decided, audit.item_reworked, item.superseded."),
]  # fmt: skip


@app.command("create")
def create(url: str, event: Events, description: str = "", api_key: ApiKey = "") -> None:
    """Register an endpoint; prints it and its signing secret (shown this once)."""
    with reported(), lab_client(api_key) as lab:
        endpoint, secret = lab.webhooks.create(url, event, description)
        show(endpoint)
        out.print(f"secret: {secret}  (keep it: it is not shown again)")


@app.command("list")
def list_endpoints(api_key: ApiKey = "") -> None:
    with reported(), lab_client(api_key) as lab:
        show_many(lab.webhooks.endpoints())


@app.command("disable")
def disable(endpoint_id: str, api_key: ApiKey = "") -> None:
    with reported(), lab_client(api_key) as lab:
        show(lab.webhooks.update(endpoint_id, disabled=True))


@app.command("enable")
def enable(endpoint_id: str, api_key: ApiKey = "") -> None:
    """Enable an endpoint (also one marked failing: its pending deliveries are sent again)."""
    with reported(), lab_client(api_key) as lab:
        show(lab.webhooks.update(endpoint_id, disabled=False))


@app.command("rotate")
def rotate(endpoint_id: str, overlap_hours: float = 24.0, api_key: ApiKey = "") -> None:
    """A new secret; the old one signs too for --overlap-hours."""
    with reported(), lab_client(api_key) as lab:
        endpoint, secret = lab.webhooks.rotate_secret(endpoint_id, dt.timedelta(hours=overlap_hours))
        show(endpoint)
        out.print(f"secret: {secret}  (keep it: it is not shown again)")


@app.command("delete")
def delete(endpoint_id: str, api_key: ApiKey = "") -> None:
    with reported(), lab_client(api_key) as lab:
        lab.webhooks.delete(endpoint_id)


@app.command("deliveries")
def deliveries(endpoint_id: str, limit: int = 50, api_key: ApiKey = "") -> None:
    """The endpoint's delivery log, newest first."""
    with reported(), lab_client(api_key) as lab:
        for i, delivery in enumerate(lab.webhooks.deliveries(endpoint_id)):
            if i >= limit:
                break
            show(delivery)


@app.command("replay")
def replay(
    delivery: Annotated[str, typer.Option(help="Send this delivery again.")] = "",
    endpoint: Annotated[str, typer.Option(help="Or every message of this endpoint ...")] = "",
    since: Annotated[str, typer.Option(help="... since this ISO 8601 time.")] = "",
    api_key: ApiKey = "",
) -> None:
    when = dt.datetime.fromisoformat(since) if since else None
    with reported(), lab_client(api_key) as lab:
        queued = lab.webhooks.replay(delivery_id=delivery or None, endpoint_id=endpoint or None, since=when)
        out.print(f"{queued} deliveries queued")
