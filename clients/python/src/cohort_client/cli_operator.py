"""Operator commands beyond onboarding: API keys, expert standing, payout runs."""

from __future__ import annotations

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
