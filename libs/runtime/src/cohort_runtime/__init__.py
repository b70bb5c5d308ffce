"""The Cohort microservice chassis: the only code services share. No domain logic lives here."""

from cohort_runtime._handler_wrap import Context as GrpcContext
from cohort_runtime.auth import Authenticator, Principal, current_principal, require_kind
from cohort_runtime.errors import (
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ServiceError,
    Unauthenticated,
)
from cohort_runtime.inbox import Event, EventRouter
from cohort_runtime.logs import configure_logging
from cohort_runtime.outbox import NOTIFY_RELAY, OutboxInsert, add_event, add_events
from cohort_runtime.service import Resources, ServiceDefinition, ServiceRuntime, Subscription, serve
from cohort_runtime.settings import ServiceSettings
from cohort_runtime.telemetry import configure_tracing

__all__ = [
    "NOTIFY_RELAY",
    "AlreadyExists",
    "Authenticator",
    "Event",
    "EventRouter",
    "FailedPrecondition",
    "FieldViolation",
    "GrpcContext",
    "InvalidArgument",
    "NotFound",
    "OutboxInsert",
    "PermissionDenied",
    "Principal",
    "Resources",
    "ServiceDefinition",
    "ServiceError",
    "ServiceRuntime",
    "ServiceSettings",
    "Subscription",
    "Unauthenticated",
    "add_event",
    "add_events",
    "configure_logging",
    "configure_tracing",
    "current_principal",
    "require_kind",
    "serve",
]
