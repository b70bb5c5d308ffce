"""Who is calling intake: a lab (API key) or an operator (platform token)."""

from __future__ import annotations

import uuid

import asyncpg

from cohort_intake.app.api_keys import lab_for_key
from cohort_runtime import Authenticator, PermissionDenied, Principal, Unauthenticated, current_principal
from cohort_runtime.auth import LAB
from cohort_runtime.tokens import TokenVerifier


def intake_authenticator(pool: asyncpg.Pool, token_public_key: str | None) -> Authenticator:
    verifier = TokenVerifier(token_public_key) if token_public_key else None

    async def authenticate(_method: str, credential: str | None) -> Principal:
        if credential is None:
            raise Unauthenticated("missing authorization metadata: 'Bearer <API key or token>'")
        if credential.startswith("ck_"):
            found = await lab_for_key(pool, credential)
            if found is None:
                raise Unauthenticated("unknown or revoked API key")
            lab_id, key_id = found
            return Principal(kind=LAB, subject=str(lab_id), key_id=str(key_id))
        if verifier is None:
            raise Unauthenticated("platform tokens are not configured on this intake")
        return verifier.verify(credential)

    return authenticate


def require_lab() -> uuid.UUID:
    """The calling lab's id; labs only (operators act on labs through the admin API)."""
    principal = current_principal()
    if principal.kind != LAB:
        raise PermissionDenied("this call needs a lab API key")
    return uuid.UUID(principal.subject)
