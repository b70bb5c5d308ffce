"""Platform tokens and the error -> google.rpc.Status mapping, with no servers."""

import datetime as dt

import grpc
import pytest
from google.rpc import error_details_pb2

from cohort_runtime.auth import bearer_credential
from cohort_runtime.errors import (
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    Unauthenticated,
)
from cohort_runtime.tokens import TokenVerifier, generate_keypair, issue_token


@pytest.fixture(scope="module")
def keys():
    return generate_keypair()


def test_token_round_trip(keys):
    token = issue_token(keys[0], kind="expert", subject="e-42", roles=["reviewer"])
    principal = TokenVerifier(keys[1]).verify(token)
    assert (principal.kind, principal.subject, principal.roles) == ("expert", "e-42", frozenset({"reviewer"}))


def test_expired_token_is_refused(keys):
    token = issue_token(keys[0], kind="operator", subject="op", ttl=dt.timedelta(seconds=-1))
    with pytest.raises(Unauthenticated, match="expired"):
        TokenVerifier(keys[1]).verify(token)


def test_unsigned_token_is_refused(keys):
    import jwt

    token = jwt.encode(
        {"sub": "x", "kind": "operator", "iss": "cohort-identity", "aud": "cohort", "exp": 2**40},
        key=None,
        algorithm="none",
    )
    with pytest.raises(Unauthenticated):
        TokenVerifier(keys[1]).verify(token)


@pytest.mark.parametrize("value", ["Basic abc", "Bearer ", "token"])
def test_malformed_authorization_is_refused(value):
    with pytest.raises(Unauthenticated):
        bearer_credential((("authorization", value),))


def test_invalid_argument_carries_field_violations():
    status = InvalidArgument([FieldViolation("spec.overlap", "must be 1..9")]).to_status()
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    bad = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad)
    assert bad.field_violations[0].field == "spec.overlap"


def test_not_found_and_precondition_details():
    nf = NotFound("project", "p-1").to_status()
    info = error_details_pb2.ResourceInfo()
    assert nf.details[0].Unpack(info) and info.resource_name == "p-1"
    fp = FailedPrecondition("project is completed", subject="projects/p-1").to_status()
    pf = error_details_pb2.PreconditionFailure()
    assert fp.details[0].Unpack(pf) and pf.violations[0].subject == "projects/p-1"


def test_keyset_tokens_round_trip_and_refuse_tampering():
    import datetime as dt
    import uuid

    import pytest

    from cohort_runtime import paging
    from cohort_runtime.errors import InvalidArgument
    from cohort_runtime.fields import parse_uuid

    query = {"lab": "a"}
    when, ident = dt.datetime(2026, 1, 2, tzinfo=dt.UTC), uuid.uuid4()
    token = paging.encode([when.isoformat(), str(ident)], query)
    assert paging.decode_keyset(token, query, dt.datetime.fromisoformat, uuid.UUID) == (when, ident)
    assert paging.decode_keyset("", query, int) is None
    for bad in (paging.encode(["x"], query), paging.encode([1, 2], query), "%%%", token + "x"):
        with pytest.raises(InvalidArgument):
            paging.decode_keyset(bad, query, int)
    with pytest.raises(InvalidArgument, match="not valid for this query"):
        paging.decode_keyset(token, {"lab": "b"}, dt.datetime.fromisoformat, uuid.UUID)
    with pytest.raises(InvalidArgument) as err:
        parse_uuid("nope", "project_id")
    assert err.value.violations[0].field == "project_id"


@pytest.mark.parametrize(
    "claims",
    [
        {"kind": "expert", "sub": 42},
        {"kind": "expert", "sub": "e 1\x00"},
        {"kind": "expert", "sub": "e", "roles": "reviewer"},
        {"kind": "expert", "sub": "e", "roles": [1, 2]},
        {"kind": "expert", "sub": "e", "roles": ["r"] * 17},
        {"kind": "lab", "sub": "not-a-uuid"},
        {"kind": ["expert"], "sub": "e"},
    ],
)
def test_signed_tokens_with_odd_claims_are_unauthenticated(keys, claims):
    """Signed with the real key, so only the claims' schema can refuse them."""
    import jwt

    body = {"iss": "cohort-identity", "aud": "cohort", "exp": dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)}
    token = jwt.encode({**body, **claims}, keys[0], algorithm="EdDSA")
    with pytest.raises(Unauthenticated, match="invalid token"):
        TokenVerifier(keys[1]).verify(token)
