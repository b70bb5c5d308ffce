"""`cohort audit …`: a lab checks delivered work by acceptance sampling (ISO 2859-1)."""

from __future__ import annotations

from typing import Annotated

import typer

from cohort_client.cli_common import ApiKey, err, lab_client, reported, show, show_many

app = typer.Typer(help="Lab: audit delivered items by acceptance sampling (ISO 2859-1).", no_args_is_help=True)


@app.command("create")
def create(
    project_id: str,
    aql: Annotated[float, typer.Option("--aql", help="Acceptance quality limit, percent (0.010 .. 10).")] = 1.0,
    api_key: ApiKey = "",
) -> None:
    """Sample the items delivered since the project's last audit; prints the plan and the sample."""
    with reported(), lab_client(api_key) as lab:
        show(lab.audits.create(project_id, aql))


@app.command("show")
def show_audit(audit_id: str, api_key: ApiKey = "") -> None:
    """An audit: its plan, sampled items, findings and decision."""
    with reported(), lab_client(api_key) as lab:
        show(lab.audits.get(audit_id))


@app.command("list")
def list_audits(project_id: str, api_key: ApiKey = "") -> None:
    """A project's audits, newest first."""
    with reported(), lab_client(api_key) as lab:
        show_many(lab.audits.list(project_id))


@app.command("accept")
def accept(audit_id: str, item_ids: list[str], api_key: ApiKey = "") -> None:
    """Record sampled items as meeting the instructions."""
    with reported(), lab_client(api_key) as lab:
        show(lab.audits.record(audit_id, dict.fromkeys(item_ids)))


@app.command("reject")
def reject(
    audit_id: str,
    item_id: str,
    reason: Annotated[str, typer.Option("--reason", help="What is wrong with the item (required).")],
    api_key: ApiKey = "",
) -> None:
    """Record a sampled item as wrong, with the reason; it is disputed to QA. Final."""
    if not reason.strip():
        err.print("--reason must say what is wrong")
        raise typer.Exit(2)
    with reported(), lab_client(api_key) as lab:
        show(lab.audits.record(audit_id, {item_id: reason}))
