"""Operator commands beyond onboarding: API keys, expert standing, payout runs and bonus periods."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from cohort.payout.v1 import runs_pb2
from cohort.tasking.v1 import experts_pb2
from cohort_client.cli_common import (
    KeyFile,
    Token,
    expert_app,
    lab_app,
    operator,
    out,
    payout_app,
    reported,
    show,
    show_many,
)


@lab_app.command("keys")
def lab_keys(lab_id: str, token: Token = "", key_file: KeyFile = None) -> None:
    """A lab's API keys (never their secrets), newest first."""
    with reported(), operator(token, key_file) as op:
        show_many(op.api_keys(lab_id))


@lab_app.command("revoke")
def lab_revoke(key_id: str, token: Token = "", key_file: KeyFile = None) -> None:
    """Revoke an API key at once (lab tokens it was exchanged for expire within their minutes)."""
    with reported(), operator(token, key_file) as op:
        show(op.revoke_api_key(key_id))


@expert_app.command("show")
def expert_show(expert_id: str, token: Token = "", key_file: KeyFile = None) -> None:
    with reported(), operator(token, key_file) as op:
        show(op.get_expert(expert_id))


@expert_app.command("quality")
def expert_quality(expert_id: str, token: Token = "", key_file: KeyFile = None) -> None:
    """QA's estimates of the person per domain: of their work, and of their verdicts as a reviewer."""
    with reported(), operator(token, key_file) as op:
        show(op.standing(expert_id))


def _status(expert_id: str, status: int, reason: str, token: str, key_file: KeyFile) -> None:
    with reported(), operator(token, key_file) as op:
        show(op.set_expert_status(expert_id, status, reason))


@expert_app.command("suspend")
def expert_suspend(expert_id: str, reason: str = "", token: Token = "", key_file: KeyFile = None) -> None:
    """No more work for the expert until reinstated (live leases run out)."""
    _status(expert_id, experts_pb2.EXPERT_STATUS_SUSPENDED, reason, token, key_file)


@expert_app.command("reinstate")
def expert_reinstate(expert_id: str, reason: str = "", token: Token = "", key_file: KeyFile = None) -> None:
    _status(expert_id, experts_pb2.EXPERT_STATUS_ACTIVE, reason, token, key_file)


@payout_app.command("show")
def payout_show(run_id: str, token: Token = "", key_file: KeyFile = None) -> None:
    """A payout run: state, totals, count."""
    with reported(), operator(token, key_file) as op:
        show(op.get_payout_run(run_id))


@payout_app.command("settle")
def payout_settle(run_id: str, expert_id: str, token: Token = "", key_file: KeyFile = None) -> None:
    """The bank confirmed the expert's payout of the run."""
    with reported(), operator(token, key_file) as op:
        op.settle_payout(run_id, expert_id)
        out.print("settled")


@payout_app.command("fail")
def payout_fail(run_id: str, expert_id: str, reason: str, token: Token = "", key_file: KeyFile = None) -> None:
    """The bank returned the expert's payout: the amount is owed to them again."""
    with reported(), operator(token, key_file) as op:
        op.fail_payout(run_id, expert_id, reason)
        out.print("failed; the amount is payable again")


@payout_app.command("runs")
def payout_runs(
    currency: Annotated[str, typer.Option(help="Only runs in this currency (ISO 4217); all when empty.")] = "",
    token: Token = "",
    key_file: KeyFile = None,
) -> None:
    """Payout runs, newest first, with their totals."""
    with reported(), operator(token, key_file) as op:
        show_many(op.payout_runs(currency))


@payout_app.command("bonus")
def payout_bonus(
    period_id: Annotated[str, typer.Argument(help='The period\'s id, e.g. "2026-11"; once per id.')],
    start: Annotated[dt.datetime, typer.Option(help="Start (inclusive), UTC, e.g. 2026-11-01.")],
    end: Annotated[dt.datetime, typer.Option(help="End (exclusive), UTC, not in the future.")],
    bonus_bps: Annotated[int, typer.Option(help="Bonus in basis points of accepted earnings (1..10000).")],
    top_share: Annotated[float, typer.Option(help="Share of each project's eligible experts (0 < s <= 1).")],
    min_decided: Annotated[int, typer.Option(help="Decided submissions needed to be eligible.")] = 10,
    currency: str = "EUR",
    token: Token = "",
    key_file: KeyFile = None,
) -> None:
    """Close a bonus period: the top share of each project's experts by acceptance rate earn a
    bonus, paid by the platform. Closing the same period again posts nothing new."""
    request = runs_pb2.CloseBonusPeriodRequest(
        period_id=period_id, currency_code=currency, bonus_bps=bonus_bps, top_share=top_share, min_decided=min_decided
    )
    request.start_time.FromDatetime(start.replace(tzinfo=dt.timezone.utc))
    request.end_time.FromDatetime(end.replace(tzinfo=dt.timezone.utc))
    with reported(), operator(token, key_file) as op:
        show(op.close_bonus_period(request))
