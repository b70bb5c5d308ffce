"""The CLI's contract: readable errors and meaningful exit codes (no server needed)."""

from __future__ import annotations

import socket

import grpc
from cohort_client.cli import app
from cohort_client.cli_common import EXIT
from cohort_client.errors import CohortError, FieldViolation
from typer.testing import CliRunner

runner = CliRunner()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_status_reports_unreachable_services_with_exit_5(monkeypatch) -> None:
    for svc in ("INTAKE", "TASKING", "QA", "PAYOUT", "WORKBENCH"):
        monkeypatch.setenv(f"COHORT_{svc}_ADDR", f"127.0.0.1:{_closed_port()}")
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 5
    assert result.output.count("UNREACHABLE") == 5


def test_a_bad_spec_file_is_refused_before_any_call(tmp_path) -> None:
    bad = tmp_path / "spec.yaml"
    bad.write_text("title: x\ndata_kind: NOT_A_KIND\n")
    result = runner.invoke(app, ["project", "create", str(bad), "--api-key", "ck_x"])
    assert result.exit_code == 3 and "cannot read" in result.output


def test_lab_commands_need_an_api_key(monkeypatch) -> None:
    monkeypatch.delenv("COHORT_API_KEY", raising=False)
    result = runner.invoke(app, ["project", "show", "p"])
    assert result.exit_code == 2 and "API key" in result.output


def test_errors_read_well_and_map_to_exit_codes() -> None:
    error = CohortError(grpc.StatusCode.INVALID_ARGUMENT, "invalid request", [FieldViolation("spec.overlap", ">= 1")])
    assert "spec.overlap: >= 1" in str(error) and not error.retryable
    assert EXIT[grpc.StatusCode.INVALID_ARGUMENT] == 3 and EXIT[grpc.StatusCode.NOT_FOUND] == 4
    assert CohortError(grpc.StatusCode.UNAVAILABLE, "down").retryable


def test_a_call_to_a_service_that_is_down_exits_5_with_a_hint(monkeypatch) -> None:
    monkeypatch.setenv("COHORT_INTAKE_ADDR", f"127.0.0.1:{_closed_port()}")
    result = runner.invoke(app, ["project", "show", "p", "--api-key", "ck_x"])
    assert result.exit_code == 5
    assert "UNAVAILABLE" in result.output and "cohort status" in result.output
