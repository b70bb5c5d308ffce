"""`cohort project …` beyond creating one: list, resume, cancel, update, and the project's tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cohort.intake.v1 import projects_pb2
from cohort_client.cli_common import ApiKey, err, lab_client, project_app, reported, show, show_many
from cohort_client.lab import spec_from_file

STATES = {"draft": 1, "active": 2, "paused": 3, "completed": 4, "cancelled": 5}


@project_app.command("list")
def project_list(
    state: Annotated[str, typer.Option(help=f"Only projects in this state: {', '.join(STATES)}.")] = "",
    api_key: ApiKey = "",
) -> None:
    """The lab's projects, newest first."""
    if state and state not in STATES:
        err.print(f"--state must be one of {', '.join(STATES)}")
        raise typer.Exit(2)
    with reported(), lab_client(api_key) as lab:
        show_many(lab.list_projects(STATES.get(state, 0)))


@project_app.command("resume")
def project_resume(project_id: str, api_key: ApiKey = "") -> None:
    """Route a paused project's tasks again (a budget pause needs a higher cap first: `update`)."""
    with reported(), lab_client(api_key) as lab:
        show(lab.resume(project_id))


@project_app.command("cancel")
def project_cancel(project_id: str, reason: str = "", api_key: ApiKey = "") -> None:
    """End a project for good: no more work is routed; delivered items stay exportable."""
    with reported(), lab_client(api_key) as lab:
        show(lab.cancel(project_id, reason))


@project_app.command("update")
def project_update(
    project_id: str,
    spec_file: Path,
    fields: Annotated[list[str], typer.Option("--field", help="A ProjectSpec field to take from the file (repeat).")],
    api_key: ApiKey = "",
) -> None:
    """Change the named fields of a project's spec to their values in SPEC_FILE."""
    try:
        spec: projects_pb2.ProjectSpec = spec_from_file(spec_file)
    except (OSError, ValueError) as exc:
        err.print(f"cannot read {spec_file}: {exc}")
        raise typer.Exit(3) from None
    with reported(), lab_client(api_key) as lab:
        show(lab.update_project(project_id, spec, fields))


@project_app.command("tasks")
def project_tasks(project_id: str, api_key: ApiKey = "") -> None:
    """The project's tasks (inputs and state; gold references never shown)."""
    with reported(), lab_client(api_key) as lab:
        show_many(lab.list_tasks(project_id))


@project_app.command("task")
def project_task(project_id: str, task_id: str, api_key: ApiKey = "") -> None:
    with reported(), lab_client(api_key) as lab:
        show(lab.get_task(project_id, task_id))
