"""What every `cohort` command shares: where the services are, credentials, error reporting and
the exit-code contract (see `cohort_client.cli`)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import grpc
import typer
from google.protobuf import json_format
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cohort_client.errors import CohortError
from cohort_client.lab import LabClient
from cohort_client.operator import Endpoints, OperatorClient

lab_app = typer.Typer(help="Operator: labs and their API keys.", no_args_is_help=True)
expert_app = typer.Typer(help="Operator: experts and cohorts.", no_args_is_help=True)
payout_app = typer.Typer(help="Operator: payees, payout runs and payment files.", no_args_is_help=True)
project_app = typer.Typer(
    help="Lab: projects (init, create, activate, pause, resume, cancel, update, list, show) and their tasks.",
    no_args_is_help=True,
)
out = Console()
err = Console(stderr=True)

EXIT = {
    grpc.StatusCode.INVALID_ARGUMENT: 3,
    grpc.StatusCode.FAILED_PRECONDITION: 3,
    grpc.StatusCode.ALREADY_EXISTS: 3,
    grpc.StatusCode.OUT_OF_RANGE: 3,
    grpc.StatusCode.NOT_FOUND: 4,
    grpc.StatusCode.PERMISSION_DENIED: 4,
    grpc.StatusCode.UNAUTHENTICATED: 4,
    grpc.StatusCode.UNAVAILABLE: 5,
    grpc.StatusCode.DEADLINE_EXCEEDED: 5,
}
HINTS = {
    grpc.StatusCode.UNAUTHENTICATED: "check --api-key / COHORT_API_KEY (labs) or --token (operators)",
    grpc.StatusCode.UNAVAILABLE: "is the service running? `cohort status` (locally: `make up`)",
    grpc.StatusCode.INVALID_ARGUMENT: "fix the fields listed above and try again",
}


def fail(error: CohortError) -> NoReturn:
    err.print(f"[red]error[/red] {error}", markup=True, highlight=False)
    if error.code in HINTS:
        err.print(f"hint: {HINTS[error.code]}", highlight=False)
    raise typer.Exit(EXIT.get(error.code, 1))


@contextmanager
def reported() -> Iterator[None]:
    """Any CohortError inside: printed readably, and the process exits with its code."""
    try:
        yield
    except CohortError as e:
        fail(e)


def endpoints() -> Endpoints:
    return Endpoints(
        intake=os.environ.get("COHORT_INTAKE_ADDR", "127.0.0.1:15051"),
        tasking=os.environ.get("COHORT_TASKING_ADDR", "127.0.0.1:15052"),
        qa=os.environ.get("COHORT_QA_ADDR", "127.0.0.1:15053"),
        payout=os.environ.get("COHORT_PAYOUT_ADDR", "127.0.0.1:15054"),
        workbench=os.environ.get("COHORT_WORKBENCH_ADDR", "127.0.0.1:15055"),
    )


ApiKey = Annotated[str, typer.Option("--api-key", envvar="COHORT_API_KEY", help="The lab's API key (ck_...).")]
Token = Annotated[str, typer.Option("--token", envvar="COHORT_OPERATOR_TOKEN", help="An operator platform token.")]
KeyFile = Annotated[
    Path | None,
    typer.Option("--token-key-file", envvar="COHORT_TOKEN_PRIVATE_KEY_FILE", help="Mint an operator token (local)."),
]


def operator(token: str, key_file: Path | None) -> OperatorClient:
    if not token:
        if key_file is None:
            err.print("an operator token is needed: --token, or --token-key-file on a local stack")
            raise typer.Exit(2)
        from cohort_runtime.tokens import issue_token  # the platform's own library, for local minting

        token = issue_token(key_file.read_text(), kind="operator", subject="cli-operator")
    return OperatorClient(endpoints(), token)


def lab_client(api_key: str) -> LabClient:
    if not api_key:
        err.print("a lab API key is needed: --api-key or COHORT_API_KEY (an operator creates it: `cohort lab key`)")
        raise typer.Exit(2)
    where = endpoints()
    return LabClient(where.intake, api_key, qa=where.qa, payout=where.payout)


def progress_bar(unit: str) -> Progress:
    """A bar for long work (uploads, exports), drawn on stderr and only on a terminal: piped or
    captured output stays exactly the results."""
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(unit),
        TimeElapsedColumn(), console=err, disable=not err.is_terminal, transient=True,
    )  # fmt: skip


# How results print: "json" (the default; one JSON document per result) or "table" (set by the
# global --output option).
OUTPUT = {"mode": "json"}


def _flat(message: object) -> dict[str, str]:
    """A message's fields for a table: scalars as they are, nested values as compact JSON."""
    data = json_format.MessageToDict(message, preserving_proto_field_name=True)  # type: ignore[arg-type]
    return {k: v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) for k, v in data.items()}


def show(message: object) -> None:
    show_many([message])


def show_many(messages: Iterable[object]) -> None:
    """Print results: JSON documents, or one table whose columns are the fields any of them set."""
    if OUTPUT["mode"] == "json":
        for message in messages:
            out.print_json(json_format.MessageToJson(message, preserving_proto_field_name=True))  # type: ignore[arg-type]
        return
    rows = [_flat(m) for m in messages]
    columns = list(dict.fromkeys(k for row in rows for k in row))
    table = Table()
    for col in columns:
        table.add_column(col, overflow="fold")  # wrapped, never cut: ids must stay whole
    for row in rows:
        table.add_row(*(row.get(col, "") for col in columns))
    out.print(table)
