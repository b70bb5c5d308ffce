"""`cohort`: the command line of the platform, for labs and operators.

Labs authenticate with an API key (--api-key or COHORT_API_KEY); operators with a platform token
(--token or COHORT_OPERATOR_TOKEN; on a local stack --token-key-file mints one from the private
key, default $COHORT_TOKEN_PRIVATE_KEY_FILE). Addresses default to the local stack.

Exit codes: 0 done; 2 bad usage; 3 the request was refused as invalid or not possible now (the
message says what to change); 4 not found or not allowed; 5 a service is unavailable; 1 other.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from contextlib import suppress
from pathlib import Path
from typing import Annotated

import grpc
import typer
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cohort.payout.v1 import payees_pb2, runs_pb2
from cohort.tasking.v1 import experts_pb2
from cohort.types.v1 import projects_pb2 as types
from cohort_client.channels import sync_channel
from cohort_client.cli_audits import app as audit_app
from cohort_client.cli_cohorts import app as cohort_app
from cohort_client.cli_common import (
    OUTPUT,
    ApiKey,
    KeyFile,
    Token,
    endpoints,
    err,
    expert_app,
    lab_app,
    lab_client,
    operator,
    out,
    payout_app,
    progress_bar,
    project_app,
    reported,
    show,
)
from cohort_client.cli_disputes import app as dispute_app
from cohort_client.cli_webhooks import app as webhook_app
from cohort_client.examples import example_spec
from cohort_client.lab import spec_from_file, tasks_from_jsonl

app = typer.Typer(help=__doc__, no_args_is_help=True, rich_markup_mode=None)


@app.callback()
def options(
    output: Annotated[str, typer.Option("--output", "-o", help="How results print: json or table.")] = "json",
) -> None:
    if output not in ("json", "table"):
        err.print("--output must be json or table")
        raise typer.Exit(2)
    OUTPUT["mode"] = output


app.add_typer(lab_app, name="lab")
app.add_typer(expert_app, name="expert")
app.add_typer(payout_app, name="payout")
app.add_typer(project_app, name="project")
app.add_typer(webhook_app, name="webhook")
app.add_typer(cohort_app, name="cohorts")
app.add_typer(audit_app, name="audit")
app.add_typer(dispute_app, name="dispute")
# The commands of these modules register on the sub-apps above when imported.
import cohort_client.cli_operator  # noqa: E402
import cohort_client.cli_projects  # noqa: E402, F401


@app.command()
def status() -> None:
    """Health of every service (gRPC health check); exit 5 when one is not serving."""
    worst = 0
    for name, target in vars(endpoints()).items():
        with sync_channel(target) as channel:
            try:
                stub = health_pb2_grpc.HealthStub(channel)
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=3)  # type: ignore[attr-defined]
                state = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
            except grpc.RpcError as exc:
                state = f"UNREACHABLE ({exc.code().name})"
        ok = state == "SERVING"
        worst = worst if ok else 5
        out.print(f"{name:9} {target:22} {'[green]' if ok else '[red]'}{state}[/]")
    raise typer.Exit(worst)


@lab_app.command("resolve-pseudonym")
def lab_resolve_pseudonym(lab_id: str, pseudonym: str, token: Token = "", key_file: KeyFile = None) -> None:
    """The expert behind a pseudonym the lab was shown (in an export, say)."""
    with reported(), operator(token, key_file) as op:
        out.print(op.resolve_pseudonym(lab_id, pseudonym))


@lab_app.command("create")
def lab_create(name: str, token: Token = "", key_file: KeyFile = None) -> None:
    """Create a lab (idempotent per call)."""
    with operator(token, key_file) as op, reported():
        show(op.create_lab(name))


@lab_app.command("key")
def lab_key(lab_id: str, name: str = "cli", token: Token = "", key_file: KeyFile = None) -> None:
    """Issue an API key for a lab; the secret is printed once."""
    with operator(token, key_file) as op, reported():
        out.print(op.create_api_key(lab_id, name))


@expert_app.command("register")
def expert_register(
    expert_id: str,
    field: Annotated[list[str], typer.Option(help="Taxonomy fields, e.g. chemistry.organic (repeatable).")],
    language: Annotated[list[str], typer.Option(help="ISO 639-1 codes (repeatable).")] = ["en"],  # noqa: B006
    degree: Annotated[str, typer.Option(help="student, bachelor, master or doctorate.")] = "doctorate",
    reviewer: bool = False,
    token: Token = "",
    key_file: KeyFile = None,
) -> None:
    """Register an expert (pseudonymous id exp_...)."""
    profile = experts_pb2.ExpertProfile(
        expert_id=expert_id, fields=field, languages=language, reviewer=reviewer,
        degree=types.DegreeLevel.Value(f"DEGREE_LEVEL_{degree.upper()}"), weekly_hours=20,
    )  # fmt: skip
    with operator(token, key_file) as op, reported():
        show(op.register_expert(profile))


@expert_app.command("invite")
def expert_invite(expert_id: str, token: Token = "", key_file: KeyFile = None) -> None:
    """Invite a registered expert to the workbench: prints a one-time link (valid 72 h) to send them."""
    with operator(token, key_file) as op, reported():
        invitation = op.invite_expert(expert_id)
    out.print(invitation.invitation_url)
    out.print(f"valid until {invitation.expire_time.ToDatetime():%Y-%m-%d %H:%M} UTC; it works once")


@payout_app.command("payee")
def payout_payee(
    expert_id: str, iban: str, holder: str, country: str, currency: str = "EUR", bic: str = "",
    token: Token = "", key_file: KeyFile = None,
) -> None:  # fmt: skip
    """Set where an expert is paid (validated, stored encrypted, shown masked)."""
    request = payees_pb2.SetPayeeRequest(
        expert_id=expert_id, iban=iban, bic=bic, account_holder=holder, country_code=country, currency_code=currency
    )
    with operator(token, key_file) as op, reported():
        show(op.set_payee(request))


@payout_app.command("run")
def payout_run(
    currency: str = "EUR", min_amount_minor: int = 1000, token: Token = "", key_file: KeyFile = None
) -> None:
    """Run payouts: every expert owed at least the minimum is paid once."""
    with operator(token, key_file) as op, reported():
        show(op.run_payouts(currency, min_amount_minor))


@payout_app.command("file")
def payout_file(
    run_id: str, out_file: Annotated[Path, typer.Option("--out")], rail: str = "sepa",
    token: Token = "", key_file: KeyFile = None,
) -> None:  # fmt: skip
    """Write a run's payment file (sepa: pain.001.001.03 XML validated against its XSD; csv)."""
    rails = {"sepa": runs_pb2.PAYMENT_RAIL_SEPA, "csv": runs_pb2.PAYMENT_RAIL_CSV}
    if rail not in rails:
        err.print("--rail must be sepa or csv")
        raise typer.Exit(2)
    with operator(token, key_file) as op, reported():
        reply = op.payment_file(run_id, rails[rail])
    out_file.write_bytes(reply.content)
    out.print(f"{reply.payment_count} payments, {reply.total_minor} minor units -> {out_file}")
    for skipped in reply.skipped:
        out.print(f"skipped {skipped.expert_id}: {skipped.reason}")


@project_app.command("create")
def project_create(spec_file: Path, api_key: ApiKey = "") -> None:
    """Create a draft project from a YAML or JSON spec (ProjectSpec fields)."""
    try:
        spec = spec_from_file(spec_file)
    except (OSError, ValueError) as exc:
        err.print(f"cannot read {spec_file}: {exc}")
        raise typer.Exit(3) from None
    with lab_client(api_key) as lab, reported():
        show(lab.create_project(spec))


KINDS = ("sft", "preference", "trajectory", "rubric_grade", "adversarial")


@project_app.command("init")
def project_init(kind: Annotated[str, typer.Option("--kind", help=f"One of {', '.join(KINDS)}.")]) -> None:
    """Print a commented starting spec for a data kind (examples/<kind>/spec.yaml, its deadline 30
    days from now): `cohort project init --kind preference > spec.yaml`, edit, then create."""
    if kind not in KINDS:
        err.print(f"--kind must be one of {', '.join(KINDS)}")
        raise typer.Exit(2)
    deadline = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)).strftime("%Y-%m-%dT00:00:00Z")
    text = example_spec(kind)
    # Written as is (not through rich, which would wrap long lines and break the YAML).
    sys.stdout.write(re.sub(r'^deadline: "[^"]*"', f'deadline: "{deadline}"', text, flags=re.M))


@project_app.command("activate")
def project_activate(project_id: str, api_key: ApiKey = "") -> None:
    """Open a draft (or paused) project to experts."""
    with lab_client(api_key) as lab, reported():
        show(lab.activate(project_id))


@project_app.command("pause")
def project_pause(project_id: str, api_key: ApiKey = "") -> None:
    """Stop routing a project's tasks (work in progress may still be handed in)."""
    with lab_client(api_key) as lab, reported():
        show(lab.pause(project_id))


@project_app.command("show")
def project_show(project_id: str, api_key: ApiKey = "") -> None:
    """A project's spec and state."""
    with lab_client(api_key) as lab, reported():
        show(lab.get_project(project_id))


@app.command("add-tasks")
def add_tasks(project_id: str, tasks_file: Path, api_key: ApiKey = "") -> None:
    """Add tasks from JSONL (one NewTask per line); re-running adds nothing twice."""
    try:
        with tasks_file.open() as f:
            total = sum(1 for line in f if line.strip())
    except OSError as exc:
        err.print(f"cannot read {tasks_file}: {exc}")
        raise typer.Exit(3) from None
    with lab_client(api_key) as lab, reported(), progress_bar("tasks") as bar:
        task = bar.add_task("uploading", total=total)
        try:
            added, unchanged = lab.add_tasks(
                project_id, tasks_from_jsonl(tasks_file), on_batch=lambda n: bar.advance(task, n)
            )
        except ValueError as exc:
            err.print(str(exc))
            raise typer.Exit(3) from None
    out.print(f"{added} added, {unchanged} already there")


@app.command()
def watch(project_id: str, api_key: ApiKey = "") -> None:
    """Follow a project's progress live until it completes (Ctrl-C to stop watching)."""
    with lab_client(api_key) as lab, Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} items"),
        TimeElapsedColumn(), console=out,
    ) as bar:  # fmt: skip
        task = bar.add_task("delivering", total=None)
        with reported(), suppress(KeyboardInterrupt):
            for p in lab.watch_progress(project_id):
                bar.update(
                    task, total=p.target_accepted_items, completed=p.items_delivered,
                    description=f"accepted {p.submissions_accepted} rejected {p.submissions_rejected} "
                    f"spent {p.spent_minor}/{p.budget_cap_minor} {p.currency_code}",
                )  # fmt: skip


@app.command()
def export(project_id: str, out_file: Annotated[Path, typer.Option("--out")], api_key: ApiKey = "") -> None:
    """Write every delivered item as JSONL (TRL/OpenAI shapes) to --out."""
    count = 0
    with lab_client(api_key) as lab, out_file.open("w") as f, reported(), progress_bar("items") as bar:
        task = bar.add_task("exporting", total=None)  # the count is known only at the stream's end
        for item in lab.export_items(project_id):
            f.write(item.record_json + "\n")
            count += 1
            bar.advance(task)
    out.print(f"{count} items -> {out_file}")


@app.command()
def quality(project_id: str, token: Token = "", key_file: KeyFile = None) -> None:
    """Operator: a project's quality figures (agreement, gold accuracy, acceptance, flagged experts)."""
    with operator(token, key_file) as op, reported():
        show(op.project_quality(project_id))


@app.command()
def project_quality(project_id: str, api_key: ApiKey = "") -> None:
    """Lab: your project's quality figures (agreement, gold accuracy, acceptance), with your API key."""
    with lab_client(api_key) as lab, reported():
        show(lab.project_quality(project_id))


@app.command()
def project_cost(project_id: str, api_key: ApiKey = "") -> None:
    """Lab: your project's cost (committed, spent, budget cap), with your API key."""
    with lab_client(api_key) as lab, reported():
        show(lab.project_cost(project_id))


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # `cohort export ... | head`
        sys.exit(0)


if __name__ == "__main__":
    main()
