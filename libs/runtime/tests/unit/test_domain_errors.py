"""Every domain error answers with the status its base names, details included."""

from __future__ import annotations

import ast
import inspect

import grpc
import pytest
from google.rpc import error_details_pb2

from cohort_runtime import domain_errors as domain
from cohort_runtime.grpc_errors import to_service_error


class _IllegalTransition(domain.StateConflict):
    """A service's own subclass, as intake declares one."""

    def __init__(self) -> None:
        super().__init__("cannot cancel project p1: it is completed", subject="projects/p1", state="completed")


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (domain.InvalidInput([domain.Violation("spec.overlap", "must be 1-10")]), grpc.StatusCode.INVALID_ARGUMENT),
        (domain.NotFoundError("project", "p1"), grpc.StatusCode.NOT_FOUND),
        (domain.Conflict("request_id reused"), grpc.StatusCode.ALREADY_EXISTS),
        (domain.NotAllowed("someone else's lease"), grpc.StatusCode.PERMISSION_DENIED),
        (_IllegalTransition(), grpc.StatusCode.FAILED_PRECONDITION),
        (domain.QuotaExceeded("labs/l1", "10 projects an hour", 30.0), grpc.StatusCode.RESOURCE_EXHAUSTED),
        (domain.DomainError("a rule with no finer kind"), grpc.StatusCode.FAILED_PRECONDITION),
    ],
)
def test_each_domain_error_maps_to_its_status(error, code):
    mapped = to_service_error(error)
    assert mapped.code == code
    assert mapped.message  # the caller is told something, never an empty status


def test_details_survive_the_mapping():
    invalid = to_service_error(domain.InvalidInput([domain.Violation("tasks[3].input", "is empty")])).to_status()
    bad = error_details_pb2.BadRequest()
    assert any(d.Unpack(bad) for d in invalid.details)
    assert [(v.field, v.description) for v in bad.field_violations] == [("tasks[3].input", "is empty")]

    state = to_service_error(_IllegalTransition()).to_status()
    failure = error_details_pb2.PreconditionFailure()
    assert any(d.Unpack(failure) for d in state.details)
    assert (failure.violations[0].type, failure.violations[0].subject) == ("COMPLETED", "projects/p1")

    quota = to_service_error(domain.QuotaExceeded("labs/l1", "slow down", 2.5)).to_status()
    retry = error_details_pb2.RetryInfo()
    assert any(d.Unpack(retry) for d in quota.details)
    assert retry.retry_delay.ToMilliseconds() == 2500


def test_domain_errors_import_only_the_standard_library():
    """Domain code may import this module, so it must not pull in any transport."""
    tree = ast.parse(inspect.getsource(domain))
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"__future__", "collections", "dataclasses"}
