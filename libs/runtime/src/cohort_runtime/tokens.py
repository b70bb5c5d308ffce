"""Platform tokens for experts, reviewers and operators, and lab tokens: Ed25519-signed JWTs.

Services only verify (with the public keys from the environment). Platform tokens are issued
with the platform key (the workbench for experts, the CLI for operators). Lab tokens are issued
by intake alone, in exchange for a lab's API key, with a key of their own (issuer
`cohort-intake`): a service trusting that key accepts from it lab tokens and nothing else, so
intake never holds the power to mint an operator's or an expert's token.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, Literal, get_args

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from cohort_runtime.auth import Principal
from cohort_runtime.errors import Unauthenticated

ISSUER = "cohort-identity"
INTAKE_ISSUER = "cohort-intake"
AUDIENCE = "cohort"
Kind = Literal["expert", "operator", "lab"]
KINDS = frozenset(get_args(Kind))


def generate_keypair() -> tuple[str, str]:
    """A new (private PEM, public PEM) Ed25519 pair."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def issue_token(
    private_pem: str,
    *,
    kind: str,
    subject: str,
    roles: Iterable[str] = (),
    ttl: dt.timedelta = dt.timedelta(hours=1),
    issuer: str = ISSUER,
    now: dt.datetime | None = None,
    api_key_id: str | None = None,
) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown principal kind {kind!r}")
    now = now or dt.datetime.now(dt.UTC)
    claims: dict[str, object] = {
        "iss": issuer,
        "aud": AUDIENCE,
        "sub": subject,
        "kind": kind,
        "roles": sorted(set(roles)),
        "iat": now,
        "exp": now + ttl,
        "jti": str(uuid.uuid4()),
    }
    if api_key_id is not None:
        claims["api_key_id"] = api_key_id  # which of the lab's keys it was exchanged for
    return jwt.encode(claims, private_pem, algorithm="EdDSA")


_SUBJECT = r"^[A-Za-z0-9_.:@-]{1,128}$"
_ROLE = r"^[a-z][a-z0-9_]{0,31}$"


class _Claims(BaseModel):
    """The claims a service relies on, by schema: a signed token with odd claims (a number for a
    subject, a string for roles) is refused as unauthenticated, never half-understood."""

    model_config = ConfigDict(extra="ignore", strict=True)

    kind: Kind
    sub: Annotated[str, StringConstraints(pattern=_SUBJECT)]
    roles: Annotated[list[Annotated[str, StringConstraints(pattern=_ROLE)]], Field(max_length=16)] = []

    @model_validator(mode="after")
    def _lab_subject_is_a_lab_id(self) -> _Claims:
        if self.kind == "lab":
            try:
                uuid.UUID(self.sub)
            except ValueError:
                raise ValueError("a lab token's subject must be the lab's UUID") from None
        return self


class TokenVerifier:
    """Verifies platform tokens with the platform public key and, when given `lab_public_pem`,
    lab tokens with intake's lab token key (issuer `cohort-intake`, kind lab only). Only EdDSA is
    accepted (no alg confusion)."""

    # Verifying an EdDSA signature on every call cost ~5% of the acquire path; a token verified
    # once is remembered until it expires (expiry is still checked on every use).
    CACHE_SIZE = 10_000

    def __init__(self, public_pem: str, lab_public_pem: str | None = None) -> None:
        self._key = serialization.load_pem_public_key(public_pem.encode())
        self._lab_key = serialization.load_pem_public_key(lab_public_pem.encode()) if lab_public_pem else None
        self._verified: dict[str, tuple[Principal, float]] = {}

    def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None:
            principal, expires = cached
            if time.time() < expires:
                return principal
            del self._verified[token]
        principal, expires = self._verify(token)
        if len(self._verified) >= self.CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (principal, expires)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            # Which key to check the signature with is read from the unverified issuer; the
            # signature, expiry, audience and that same issuer are then checked with that key.
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
            key = self._lab_key if issuer == INTAKE_ISSUER else self._key
            if key is None:
                raise Unauthenticated("invalid token: lab tokens are not accepted by this service")
            claims = jwt.decode(
                token,
                key,  # type: ignore[arg-type]
                algorithms=["EdDSA"],
                audience=AUDIENCE,
                issuer=INTAKE_ISSUER if issuer == INTAKE_ISSUER else ISSUER,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from exc
        try:
            valid = _Claims.model_validate(claims)
        except ValidationError as exc:
            # Which claim is wrong, not its value: the token may be hostile.
            where = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors()[:3])
            raise Unauthenticated(f"invalid token: malformed claims ({where})") from None
        if issuer == INTAKE_ISSUER and (valid.kind != "lab" or valid.roles):
            raise Unauthenticated("invalid token: intake's key signs lab tokens only")
        principal = Principal(kind=valid.kind, subject=valid.sub, roles=frozenset(valid.roles))
        return principal, float(claims["exp"])


def token_authenticator(
    public_pem: str | None, lab_public_pem: str | None = None
) -> Callable[[str, str | None], Awaitable[Principal]]:
    """An Authenticator accepting platform tokens, and lab tokens when `lab_public_pem` is given.
    Without a platform key, every call is refused."""
    verifier = TokenVerifier(public_pem, lab_public_pem) if public_pem else None

    async def authenticate(_method: str, credential: str | None) -> Principal:
        if credential is None:
            raise Unauthenticated("missing authorization metadata (Bearer token)")
        if verifier is None:
            raise Unauthenticated("this service has no token public key configured")
        return verifier.verify(credential)

    return authenticate
