"""Errors that say a dependency is down or busy for now, not that the request or record is bad.

One list for every place that must tell the two apart: the gRPC edge answers these with
UNAVAILABLE (and retry info) rather than INTERNAL, the inbox retries a record without counting an
attempt against it, and background loops back off and resume instead of dying.
"""

from __future__ import annotations

import asyncpg
from aiokafka.errors import KafkaError

# Connection refused or lost, server starting up or shutting down (57P01-57P03), statement
# cancelled by an operator or timeout (57014), too many connections (53300), a read-only standby
# after a failover (25006), and the client's own pool or protocol giving up (InterfaceError).
TRANSIENT_DB_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes TimeoutError and ConnectionError
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.ReadOnlySQLTransactionError,
)

# The longest a loop (relay, consumer, supervised job) waits between attempts at a dependency that
# is away: it resumes within this of the dependency's return. A retry is one cheap failed connect,
# so a short ceiling costs nothing during a long outage (the chaos suite measures recovery by it).
RETRY_MAX_SECONDS = 3.0

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (*TRANSIENT_DB_ERRORS, KafkaError)


def is_transient(error: BaseException) -> bool:
    return isinstance(error, TRANSIENT_ERRORS)
