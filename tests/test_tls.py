"""TLS on the gRPC hops, with a CA made for the test: labs reach intake only over TLS; tasking, QA
and payout demand a client certificate (mutual TLS) and the workbench presents its own when it
calls them for an expert; the health probe speaks TLS too."""

from __future__ import annotations

import asyncio
import os
import sys

import grpc
import httpx
import pytest

from cohort.intake.v1 import projects_pb2, projects_pb2_grpc
from cohort.tasking.v1 import experts_pb2, experts_pb2_grpc
from cohort.workbench.v1 import accounts_pb2, accounts_pb2_grpc
from cohort_runtime.tls import channel, local_authority

from .conftest import running_workbench

PASSWORD = "ember-lantern-quartz-52"


async def test_services_speak_tls_and_the_workbench_presents_its_certificate(
    services, database_url, token_keys, onboard, tmp_path
):
    pki = local_authority(tmp_path / "pki")
    server = {"tls_cert_file": pki["cert"], "tls_key_file": pki["key"]}
    mutual = {**server, "tls_client_ca_file": pki["ca"]}
    async with services(
        "intake", "tasking", "qa", "payout", intake=server, tasking=mutual, qa=mutual, payout=mutual
    ) as running:
        intake = f"127.0.0.1:{running['intake'].grpc_port}"
        tasking = f"127.0.0.1:{running['tasking'].grpc_port}"

        async with grpc.aio.insecure_channel(intake) as plain:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await projects_pb2_grpc.ProjectServiceStub(plain).ListProjects(
                    projects_pb2.ListProjectsRequest(), timeout=3
                )
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE, "no plaintext on a TLS port"
        async with channel(intake, pki["ca"]) as secure:
            lab = await onboard.lab(secure)
            listed = await projects_pb2_grpc.ProjectServiceStub(secure).ListProjects(
                projects_pb2.ListProjectsRequest(), metadata=lab
            )
            assert list(listed.projects) == []

        # Tasking wants a client certificate: a caller that trusts the CA but has none is refused.
        async with channel(tasking, pki["ca"]) as anonymous:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await experts_pb2_grpc.ExpertAdminServiceStub(anonymous).GetExpert(
                    experts_pb2.GetExpertRequest(expert_id="exp_nobody00"), metadata=onboard.operator, timeout=3
                )
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        async with channel(tasking, pki["ca"], client_cert=(pki["cert"], pki["key"])) as authenticated:
            expert, _ = await onboard.expert(authenticated)

        env = {
            **os.environ,
            "COHORT_TLS_CA_FILE": str(pki["ca"]),
            "COHORT_TLS_CLIENT_CA_FILE": str(pki["ca"]),
            "COHORT_TLS_CERT_FILE": str(pki["cert"]),
            "COHORT_TLS_KEY_FILE": str(pki["key"]),
        }
        probe = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cohort_runtime.probe", tasking, env=env, stderr=asyncio.subprocess.PIPE
        )
        _, stderr = await asyncio.wait_for(probe.communicate(), 30)
        assert probe.returncode == 0, stderr

        async with running_workbench(
            database_url,
            token_keys,
            running,
            tls_ca_file=pki["ca"],
            tls_cert_file=pki["cert"],
            tls_key_file=pki["key"],
        ) as wb:
            async with channel(f"127.0.0.1:{wb.runtime.grpc_port}", pki["ca"]) as admin_channel:
                invitation = await accounts_pb2_grpc.AccountAdminServiceStub(admin_channel).InviteExpert(
                    accounts_pb2.InviteExpertRequest(expert_id=expert), metadata=onboard.operator
                )
            path = invitation.invitation_url.removeprefix("http://workbench.test")
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{wb.http.port}") as browser:
                joined = await browser.post(
                    path, data={"sign_in_name": "tls-expert", "password": PASSWORD, "password_again": PASSWORD}
                )
                assert joined.status_code == 303
                home = await browser.get("/")
                assert home.status_code == 200 and "Your work" in home.text, "tasking, QA and payout answered over mTLS"
