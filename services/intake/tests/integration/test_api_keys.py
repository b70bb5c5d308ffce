"""Lab API keys: shown once, authenticate as their lab, revocable at once."""

from __future__ import annotations

import uuid

import grpc
import pytest

from cohort.intake.v1 import labs_pb2, projects_pb2


async def test_key_authenticates_its_lab_until_revoked(intake):
    lab_id, lab = await intake.new_lab("Key Lab")
    listed = await intake.projects.ListProjects(projects_pb2.ListProjectsRequest(), metadata=lab)
    assert list(listed.projects) == []

    keys = await intake.admin.ListApiKeys(labs_pb2.ListApiKeysRequest(lab_id=lab_id), metadata=intake.operator)
    (key,) = keys.api_keys
    secret = lab[0][1].removeprefix("Bearer ")
    assert secret.startswith(key.prefix + "_")
    assert secret not in str(keys), "secrets are never listed"
    stored = await intake.pool.fetchval("SELECT secret_hash FROM api_keys WHERE key_id = $1", uuid.UUID(key.key_id))
    assert secret.encode() not in bytes(stored), "only a hash is stored"

    revoked = await intake.admin.RevokeApiKey(labs_pb2.RevokeApiKeyRequest(key_id=key.key_id), metadata=intake.operator)
    assert revoked.api_key.HasField("revoke_time")
    again = await intake.admin.RevokeApiKey(labs_pb2.RevokeApiKeyRequest(key_id=key.key_id), metadata=intake.operator)
    assert again.api_key.revoke_time == revoked.api_key.revoke_time, "revoking twice is a no-op"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await intake.projects.ListProjects(projects_pb2.ListProjectsRequest(), metadata=lab)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_tampered_key_is_refused(intake):
    _lab_id, lab = await intake.new_lab()
    secret = lab[0][1].removeprefix("Bearer ")
    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    for credential in (tampered, "ck_00000000_" + "x" * 43, "ck_short"):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await intake.projects.ListProjects(
                projects_pb2.ListProjectsRequest(), metadata=(("authorization", f"Bearer {credential}"),)
            )
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_labs_cannot_use_admin_rpcs_and_operators_cannot_act_as_labs(intake):
    lab_id, lab = await intake.new_lab()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await intake.admin.CreateApiKey(labs_pb2.CreateApiKeyRequest(lab_id=lab_id, display_name="x"), metadata=lab)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await intake.projects.ListProjects(projects_pb2.ListProjectsRequest(), metadata=intake.operator)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_key_for_unknown_lab_is_not_found(intake):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await intake.admin.CreateApiKey(
            labs_pb2.CreateApiKeyRequest(lab_id=str(uuid.uuid4()), display_name="x"), metadata=intake.operator
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert await intake.pool.fetchval("SELECT count(*) FROM api_keys") == 0
