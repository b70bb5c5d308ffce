"""`cohort cohorts`: operators define cohorts (named groups of experts that a project can require
through qualifications.cohort_ids) and manage their members."""

from __future__ import annotations

from typing import Annotated

import typer

from cohort.tasking.v1 import experts_pb2
from cohort_client.cli_common import KeyFile, Token, operator, out, reported, show, show_many

app = typer.Typer(help="Operator: cohorts of experts that projects can require.", no_args_is_help=True)

ExpertIds = Annotated[list[str], typer.Argument(help="Expert ids (exp_...), up to 1,000.")]


@app.command("create")
def create(
    cohort_id: str,
    name: Annotated[str, typer.Option("--name", help="Display name, 1..100 characters.")],
    description: Annotated[str, typer.Option("--description", help="What the cohort is for.")] = "",
    token: Token = "",
    key_file: KeyFile = None,
) -> None:
    """Create a cohort (the same definition again is a no-op)."""
    with reported(), operator(token, key_file) as op:
        show(op.create_cohort(cohort_id, name, description))


@app.command("list")
def list_(token: Token = "", key_file: KeyFile = None) -> None:
    """Every cohort with its member count, by id."""
    with reported(), operator(token, key_file) as op:
        show_many(op.cohorts())


@app.command("show")
def show_cohort(cohort_id: str, token: Token = "", key_file: KeyFile = None) -> None:
    """A cohort and all its members."""
    with reported(), operator(token, key_file) as op:
        cohort, members = op.cohort(cohort_id)
    show(experts_pb2.GetCohortResponse(cohort=cohort, expert_ids=members))


@app.command("add")
def add(cohort_id: str, expert_ids: ExpertIds, token: Token = "", key_file: KeyFile = None) -> None:
    """Add experts to a cohort (it must exist; all are added or, if one is unknown, none)."""
    with reported(), operator(token, key_file) as op:
        added = op.add_to_cohort(cohort_id, expert_ids)
    out.print(f"{added} added to {cohort_id}, {len(set(expert_ids)) - added} were members already")


@app.command("remove")
def remove(cohort_id: str, expert_ids: ExpertIds, token: Token = "", key_file: KeyFile = None) -> None:
    """Take experts out of a cohort: running leases finish, no new work that needs the cohort."""
    with reported(), operator(token, key_file) as op:
        removed = op.remove_from_cohort(cohort_id, expert_ids)
    out.print(f"{removed} removed from {cohort_id}")
