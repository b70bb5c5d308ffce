"""gRPC errors as readable exceptions: the status code, the message and the google.rpc details
(field violations, the resource not found, the precondition that failed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


@dataclass
class CohortError(Exception):
    code: grpc.StatusCode
    message: str
    violations: list[FieldViolation] = field(default_factory=list)
    resource: str = ""
    precondition: str = ""
    reason: str = ""

    def __str__(self) -> str:
        lines = [f"{self.code.name}: {self.message}"]
        lines += [f"  - {v.field}: {v.description}" for v in self.violations]
        if self.resource:
            lines.append(f"  not found: {self.resource}")
        if self.precondition:
            lines.append(f"  precondition: {self.precondition}")
        return "\n".join(lines)

    @property
    def retryable(self) -> bool:
        return self.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.ABORTED)


def from_rpc_error(error: grpc.RpcError) -> CohortError:
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    details = error.details() if hasattr(error, "details") else str(error)
    out = CohortError(code=code, message=details or "")
    status = rpc_status.from_call(error) if isinstance(error, grpc.Call) else None
    details_list: list[Any] = list(status.details) if status else []
    for detail in details_list:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            out.violations += [FieldViolation(v.field, v.description) for v in bad.field_violations]
        elif detail.Is(error_details_pb2.ResourceInfo.DESCRIPTOR):
            info = error_details_pb2.ResourceInfo()
            detail.Unpack(info)
            out.resource = f"{info.resource_type} {info.resource_name}"
        elif detail.Is(error_details_pb2.PreconditionFailure.DESCRIPTOR):
            pf = error_details_pb2.PreconditionFailure()
            detail.Unpack(pf)
            out.precondition = "; ".join(f"{v.type} {v.subject}: {v.description}" for v in pf.violations)
        elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            ei = error_details_pb2.ErrorInfo()
            detail.Unpack(ei)
            out.reason = ei.reason
    return out
