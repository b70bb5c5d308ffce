"""TLS on the gRPC hops, with a CA made for the test: labs reach intake only over TLS; tasking, QA
and payout demand a client certificate (mutual TLS) and the workbench presents its own when it
calls them for an expert; the health probe speaks TLS too. And TLS with SASL to Kafka: the local
broker's SASL_SSL listener (deploy/local/kafka.sh) carries the services' events, and refuses a
wrong password or a client that does not trust its certificate."""

from __future__ import annotations

import asyncio
import os
import ssl
import sys
import uuid
from pathlib import Path

import asyncpg
import grpc
import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaConnectionError, KafkaError

from cohort.intake.v1 import projects_pb2, projects_pb2_grpc
from cohort.intake.v1 import tasks_pb2 as tpb
from cohort.tasking.v1 import experts_pb2, experts_pb2_grpc, work_pb2, work_pb2_grpc
from cohort.types.v1 import tasks_pb2 as ttypes
from cohort.workbench.v1 import accounts_pb2, accounts_pb2_grpc
from cohort_runtime.kafka import KafkaSecurity, ensure_topics, make_producer
from cohort_runtime.tls import channel, local_authority

from .conftest import open_project, running_workbench

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


def _broker() -> tuple[str, Path]:
    """The local broker's SASL_SSL listener and the folder of its CA and password."""
    if "COHORT_LOCAL_KAFKA_SASL_SSL" not in os.environ:
        pytest.skip("an external Kafka (COHORT_KAFKA_BOOTSTRAP) has no local SASL_SSL listener")
    return os.environ["COHORT_LOCAL_KAFKA_SASL_SSL"], Path(os.environ["COHORT_LOCAL_KEYS"])


def _secure(keys: Path, **changes: object) -> KafkaSecurity:
    fields: dict[str, object] = {
        "protocol": "SASL_SSL",
        "ca_file": keys / "tls" / "ca.pem",
        "sasl_mechanism": "PLAIN",
        "sasl_username": "cohort",
        "sasl_password": (keys / "kafka.password").read_text(),
    }
    return KafkaSecurity(**{**fields, **changes})  # type: ignore[arg-type]


async def test_a_record_goes_through_kafka_over_tls_with_sasl() -> None:
    bootstrap, keys = _broker()
    topic = os.environ["COHORT_TOPIC_PREFIX"] + "tls.check"
    await ensure_topics(bootstrap, [topic], partitions=1, replication=1, client_id="tls-test", security=_secure(keys))
    producer = make_producer(bootstrap, "tls-test", _secure(keys))
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"sealed in transit", key=b"k")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", **_secure(keys).options()
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()
    assert record.value == b"sealed in transit"


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"sasl_password": "not-the-password"}, id="wrong password"),
        pytest.param({"ca_file": None}, id="broker certificate not trusted"),
    ],
)
async def test_kafka_refuses_a_client_without_the_password_or_the_ca(changes: dict[str, object]) -> None:
    bootstrap, keys = _broker()
    producer = make_producer(bootstrap, "tls-refused", _secure(keys, **changes))
    with pytest.raises((KafkaError, KafkaConnectionError)):
        await asyncio.wait_for(producer.start(), 30)
    await producer.stop()


def _database_over_tls(database_url: str, ca: Path) -> str:
    """The test database's URL asking for TLS with the server's certificate checked against `ca`
    (its name included)."""
    if os.environ.get("COHORT_LOCAL_PG_TLS") != "1":
        pytest.skip("an external PostgreSQL (COHORT_DATABASE_URL) may not offer TLS")
    return f"{database_url}?sslmode=verify-full&sslrootcert={ca}"


async def test_postgres_speaks_tls_and_checks_the_server_certificate(database_url, tmp_path) -> None:
    ca = Path(os.environ["COHORT_LOCAL_KEYS"]) / "tls" / "ca.pem"
    conn = await asyncpg.connect(_database_over_tls(database_url, ca))
    try:
        assert await conn.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") is True
    finally:
        await conn.close()
    stranger = local_authority(tmp_path / "stranger")["ca"]
    with pytest.raises(ssl.SSLError):
        await asyncpg.connect(_database_over_tls(database_url, stranger))


async def test_services_run_with_kafka_and_postgres_over_tls(services, database_url, onboard, eventually) -> None:
    """Intake publishes a project's activation and its tasks over the SASL_SSL listener, tasking
    consumes them the same way, both keep their state over TLS to PostgreSQL: an expert can then
    lease the task."""
    bootstrap, keys = _broker()
    secure = {
        "database_url": _database_over_tls(database_url, keys / "tls" / "ca.pem"),
        "kafka_bootstrap": bootstrap,
        "kafka_security_protocol": "SASL_SSL",
        "kafka_ca_file": keys / "tls" / "ca.pem",
        "kafka_sasl_mechanism": "PLAIN",
        "kafka_sasl_username": "cohort",
        "kafka_sasl_password": (keys / "kafka.password").read_text(),
    }
    async with services("intake", "tasking", intake=secure, tasking=secure) as running:
        intake = grpc.aio.insecure_channel(f"127.0.0.1:{running['intake'].grpc_port}")
        tasking = grpc.aio.insecure_channel(f"127.0.0.1:{running['tasking'].grpc_port}")
        try:
            lab = await onboard.lab(intake)
            task = tpb.NewTask(
                task_id=f"t{uuid.uuid4().hex[:8]}",
                input=ttypes.TaskInput(
                    prompt="Which is right?",
                    candidates=[ttypes.Candidate(candidate_id=c, content=f"answer {c}") for c in "ab"],
                ),
            )
            project = await open_project(intake, onboard, lab, [task])
            _, expert = await onboard.expert(tasking)
            work = work_pb2_grpc.WorkServiceStub(tasking)

            async def leased() -> bool:
                reply = await work.AcquireTask(work_pb2.AcquireTaskRequest(project_id=project), metadata=expert)
                return reply.HasField("assignment")

            assert await eventually(leased, within=60), "tasking learnt the project and its task over Kafka TLS"
        finally:
            await intake.close()
            await tasking.close()
