"""Cohort's client library: typed access to the lab API (intake) and the operator APIs, sync and
asyncio, with deadlines on every call, retries only where safe, and readable errors."""

from cohort_client.errors import CohortError, FieldViolation
from cohort_client.lab import AsyncLabClient, LabClient
from cohort_client.operator import Endpoints, OperatorClient
from cohort_client.operator_async import AsyncOperatorClient

__all__ = [
    "AsyncLabClient",
    "AsyncOperatorClient",
    "CohortError",
    "Endpoints",
    "FieldViolation",
    "LabClient",
    "OperatorClient",
]
