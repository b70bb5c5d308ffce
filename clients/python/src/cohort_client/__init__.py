"""Cohort's client library: typed access to the lab API (intake) and the operator APIs, sync and
asyncio, with deadlines on every call, retries only where safe, and readable errors."""

from cohort_client.errors import CohortError, FieldViolation
from cohort_client.lab import AsyncLabClient, LabClient

__all__ = ["AsyncLabClient", "CohortError", "FieldViolation", "LabClient"]
