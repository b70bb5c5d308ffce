"""`cohort dispute …`: QA staff (operators) decide the items labs reject in their audits."""

from __future__ import annotations

from typing import Annotated

import typer

from cohort.qa.v1 import disputes_pb2
from cohort_client.cli_common import KeyFile, Token, err, operator, reported, show, show_many

app = typer.Typer(help="Operator (QA): decide labs' disputes of delivered items.", no_args_is_help=True)

STATES = {
    "open": disputes_pb2.DISPUTE_STATE_OPEN,
    "upheld": disputes_pb2.DISPUTE_STATE_UPHELD,
    "dismissed": disputes_pb2.DISPUTE_STATE_DISMISSED,
}
Comments = Annotated[str, typer.Option("--comments", help="Why, for the lab (required).")]


@app.command("list")
def list_disputes(
    project: Annotated[str, typer.Option(help="Only this project's.")] = "",
    state: Annotated[str, typer.Option(help="open, upheld or dismissed.")] = "open",
    token: Token = "",
    key_file: KeyFile = None,
) -> None:
    """Disputes, oldest first."""
    if state not in STATES:
        err.print("--state must be open, upheld or dismissed")
        raise typer.Exit(2)
    with reported(), operator(token, key_file) as op:
        show_many(op.disputes(project, STATES[state]))


@app.command("show")
def show_dispute(item_id: str, token: Token = "", key_file: KeyFile = None) -> None:
    """A dispute with the task's input, the item's agreement and the experts behind it."""
    with reported(), operator(token, key_file) as op:
        show(op.dispute(item_id))


def _decide(item_id: str, uphold: bool, comments: str, token: str, key_file: KeyFile) -> None:
    if not comments.strip():
        err.print("--comments must say why")
        raise typer.Exit(2)
    with reported(), operator(token, key_file) as op:
        show(op.decide_dispute(item_id, uphold, comments))


@app.command("uphold")
def uphold(item_id: str, comments: Comments, token: Token = "", key_file: KeyFile = None) -> None:
    """QA agrees with the lab: the item is wrong. Final."""
    _decide(item_id, True, comments, token, key_file)


@app.command("dismiss")
def dismiss(item_id: str, comments: Comments, token: Token = "", key_file: KeyFile = None) -> None:
    """The item meets the instructions: it stands. Final."""
    _decide(item_id, False, comments, token, key_file)
