"""Webhooks to real HTTP receivers on loopback: signed per Standard Webhooks (checked with the
`standardwebhooks` library, as a lab would), retried until they land exactly once, kept across a
restart, and a slow receiver holds up nobody else."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import grpc
import pytest
from standardwebhooks.webhooks import Webhook

from cohort.events.v1 import items_pb2
from cohort.intake.v1 import projects_pb2 as ppb
from cohort.intake.v1 import tasks_pb2 as tpb
from cohort.intake.v1 import webhooks_pb2 as pb
from cohort.intake.v1 import webhooks_pb2_grpc
from cohort.types.v1 import projects_pb2 as types
from cohort_runtime.testing import eventually

from ..spec_factory import valid_spec
from .test_projects_api import create
from .test_tasks_api import preference_task

FAST_RETRIES = {"webhook_retry_schedule": (0.2,) * 8, "webhook_allowed_networks": ("127.0.0.0/8",)}


@dataclass
class Received:
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    """An HTTP server on loopback: answers each POST with the next of `statuses` (then 200)."""

    statuses: list[int] = field(default_factory=list)
    hold: asyncio.Event | None = None
    got: list[Received] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            if self.hold is not None:
                await self.hold.wait()
            status = self.statuses.pop(0) if self.statuses else 200
            self.got.append(Received(headers, body.decode()))
            self.answered.append(status)
            writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode())
            await writer.drain()
        finally:
            writer.close()

    def delivered(self) -> dict[str, Received]:
        """The requests answered 2xx, by webhook-id."""
        out: dict[str, Received] = {}
        for r, status in zip(self.got, self.answered, strict=True):
            if 200 <= status < 300:
                assert r.headers["webhook-id"] not in out, f"{r.headers['webhook-id']} delivered twice"
                out[r.headers["webhook-id"]] = r
        return out


async def until(condition: Callable[[], bool], what: str) -> None:
    """Until what the receiver recorded meets `condition` (it is not in the database)."""

    async def met() -> bool:
        return condition()

    await eventually(met, 20, what)


@contextlib.asynccontextmanager
async def serving(receiver: Receiver, port: int = 0) -> AsyncIterator[Receiver]:
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", port)
    receiver.port = server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        server.close()
        await server.wait_closed()


async def project_with_tasks(intake, lab, target: int = 2) -> str:
    spec = valid_spec(data_kind=types.DATA_KIND_PREFERENCE, target_accepted_items=target, overlap=1, max_overlap=1)
    pid = (await create(intake, lab, spec)).project_id
    tasks = [preference_task(f"t{i}") for i in range(target)]
    await intake.tasks.AddTasks(tpb.AddTasksRequest(project_id=pid, tasks=tasks), metadata=lab)
    await intake.projects.ActivateProject(ppb.ActivateProjectRequest(project_id=pid), metadata=lab)
    return pid


def item(pid: str, task_id: str) -> items_pb2.ItemFinalized:
    return items_pb2.ItemFinalized(
        project_id=pid, task_id=task_id, item_id=str(uuid.uuid4()), expert_ids=["exp_1"],
        preference=items_pb2.PreferenceResult(ranking=["a", "b"]),
        quality=items_pb2.ItemQuality(agreement=1.0, confidence=0.9),
    )  # fmt: skip


async def register(intake, lab, url: str, *types_: str) -> tuple[str, str]:
    stub = webhooks_pb2_grpc.WebhookServiceStub(intake.channel)
    created = await stub.CreateEndpoint(
        pb.CreateEndpointRequest(endpoint=pb.Endpoint(url=url, event_types=list(types_))), metadata=lab
    )
    return created.endpoint.endpoint_id, created.secret


ALL = ("items.delivered", "project.milestone", "project.completed")


async def test_deliveries_are_signed_retried_and_land_once(make_intake, events):
    async with make_intake(**FAST_RETRIES) as intake, serving(Receiver(statuses=[500, 503, 500])) as rx:
        _lab_id, lab = await intake.new_lab()
        endpoint_id, secret = await register(intake, lab, f"http://127.0.0.1:{rx.port}/hooks", *ALL)
        pid = await project_with_tasks(intake, lab, target=2)
        for i in range(2):
            await events.send("cohort.qa.items.v1", pid, item(pid, f"t{i}"))

        stub = webhooks_pb2_grpc.WebhookServiceStub(intake.channel)

        async def settled():
            log = (
                await stub.ListDeliveries(pb.ListDeliveriesRequest(endpoint_id=endpoint_id), metadata=lab)
            ).deliveries
            # one or two item batches, four milestones, the completion; all delivered
            return log if len(log) >= 6 and all(d.state == pb.DELIVERY_STATE_DELIVERED for d in log) else None

        log = await eventually(settled, 30, "every delivery delivered")
        delivered = rx.delivered()
        assert set(delivered) == {d.message_id for d in log}, "each message lands exactly once"
        bodies = [Webhook(secret).verify(r.body, r.headers) for r in delivered.values()]
        assert sum(b["type"] == "project.completed" for b in bodies) == 1
        assert sorted(b["data"]["percent"] for b in bodies if b["type"] == "project.milestone") == [25, 50, 75, 100]
        shipped = [i for b in bodies if b["type"] == "items.delivered" for i in b["data"]["item_ids"]]
        assert len(shipped) == len(set(shipped)) == 2, "each item announced once"
        assert sum(d.attempts for d in log) == len(log) + 3, "three failed attempts, each retried"
        assert all(d.last_status_code == 200 for d in log) and max(d.attempts for d in log) > 1
        # A forged or altered body does not verify.
        some = next(iter(delivered.values()))
        with pytest.raises(Exception, match="signature"):
            Webhook(secret).verify(some.body.replace("}", " }", 1), some.headers)


async def test_private_addresses_are_refused_after_resolution(make_intake, events):
    """Without the allowlist, loopback is refused; so is a name that resolves to it."""
    async with make_intake(webhook_retry_schedule=(0.2,)) as intake, serving(Receiver()) as rx:
        _lab_id, lab = await intake.new_lab()
        endpoint_id, _secret = await register(intake, lab, f"http://localhost:{rx.port}/", "items.delivered")
        pid = await project_with_tasks(intake, lab, target=3)
        await events.send("cohort.qa.items.v1", pid, item(pid, "t0"))
        stub = webhooks_pb2_grpc.WebhookServiceStub(intake.channel)

        async def failing():
            (e,) = (await stub.ListEndpoints(pb.ListEndpointsRequest(), metadata=lab)).endpoints
            return e if e.state == pb.ENDPOINT_STATE_FAILING else None

        endpoint = await eventually(failing, 30, "the endpoint marked failing")
        assert "not a public address" in endpoint.failing_reason
        (d,) = (await stub.ListDeliveries(pb.ListDeliveriesRequest(endpoint_id=endpoint_id), metadata=lab)).deliveries
        assert d.state == pb.DELIVERY_STATE_FAILED and "refused" in d.last_error
        assert rx.got == [], "nothing reached the address"


async def test_a_slow_receiver_holds_up_no_other_lab(make_intake, events):
    async with (
        make_intake(**FAST_RETRIES, webhook_timeout_seconds=30) as intake,
        serving(Receiver(hold=asyncio.Event())) as slow,
        serving(Receiver()) as fast,
    ):
        pids = {}
        for name, rx in (("slow", slow), ("fast", fast)):
            _lab_id, lab = await intake.new_lab(name)
            await register(intake, lab, f"http://127.0.0.1:{rx.port}/", "items.delivered")
            pids[name] = await project_with_tasks(intake, lab, target=3)
        for name in ("slow", "fast"):
            for i in range(3):
                await events.send("cohort.qa.items.v1", pids[name], item(pids[name], f"t{i}"))

        def items_announced(rx: Receiver) -> int:
            return sum(len(json.loads(r.body)["data"]["item_ids"]) for r in rx.delivered().values())

        async def fast_done():
            return items_announced(fast) == 3 or None

        await eventually(fast_done, 20, "the fast lab's three items announced while the slow one hangs")
        assert slow.got == [], "the slow receiver is still holding its first request"
        assert slow.hold is not None
        slow.hold.set()

        async def slow_done():
            return items_announced(slow) == 3 or None

        await eventually(slow_done, 30, "the slow lab's deliveries once it answers")


async def test_deliveries_wait_through_a_restart_for_a_receiver_that_was_down(make_intake, events):
    with contextlib.closing(socket.socket()) as s:  # a free port nobody listens on yet
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    patient = {**FAST_RETRIES, "webhook_retry_schedule": (0.3, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)}
    async with make_intake(**patient) as intake:
        _lab_id, lab = await intake.new_lab()
        endpoint_id, _secret = await register(intake, lab, f"http://127.0.0.1:{port}/", *ALL)
        pid = await project_with_tasks(intake, lab, target=2)
        for i in range(2):
            await events.send("cohort.qa.items.v1", pid, item(pid, f"t{i}"))
        stub = webhooks_pb2_grpc.WebhookServiceStub(intake.channel)

        async def tried():
            log = (
                await stub.ListDeliveries(pb.ListDeliveriesRequest(endpoint_id=endpoint_id), metadata=lab)
            ).deliveries
            return log if len(log) >= 4 and any(d.attempts >= 1 for d in log) else None

        queued = {d.message_id for d in await eventually(tried, 30, "deliveries tried against the dead port")}
    # The service is down; then comes back (same schema), and so does the receiver.
    async with make_intake(**patient) as intake, serving(Receiver(), port=port) as rx:

        async def all_in():
            return set(rx.delivered()) >= queued or None

        await eventually(all_in, 30, "every queued message delivered after the restart")
        assert set(rx.delivered()) == queued


async def test_rotation_signs_with_both_secrets_for_the_overlap_and_replay_resends(make_intake, events):
    async with make_intake(**FAST_RETRIES) as intake, serving(Receiver()) as rx:
        _lab_id, lab = await intake.new_lab()
        endpoint_id, old = await register(intake, lab, f"http://127.0.0.1:{rx.port}/", "items.delivered")
        stub = webhooks_pb2_grpc.WebhookServiceStub(intake.channel)
        rotated = await stub.RotateEndpointSecret(pb.RotateEndpointSecretRequest(endpoint_id=endpoint_id), metadata=lab)
        new = rotated.secret
        assert new != old and rotated.endpoint.HasField("previous_secret_expire_time")
        pid = await project_with_tasks(intake, lab, target=3)
        await events.send("cohort.qa.items.v1", pid, item(pid, "t0"))
        await until(lambda: len(rx.delivered()) == 1, "the delivery")
        (only,) = rx.delivered().values()
        assert len(only.headers["webhook-signature"].split(" ")) == 2
        for secret in (old, new):
            Webhook(secret).verify(only.body, only.headers)
        (d,) = (await stub.ListDeliveries(pb.ListDeliveriesRequest(endpoint_id=endpoint_id), metadata=lab)).deliveries
        replayed = await stub.ReplayDeliveries(pb.ReplayDeliveriesRequest(delivery_id=d.delivery_id), metadata=lab)
        assert replayed.queued == 1
        await until(lambda: len(rx.got) == 2, "the replay")
        assert rx.got[1].headers["webhook-id"] == only.headers["webhook-id"] and rx.got[1].body == only.body


async def test_endpoints_are_validated_and_private_to_their_lab(intake):
    stub = webhooks_pb2_grpc.WebhookServiceStub(intake.channel)
    _a, lab_a = await intake.new_lab("A")
    _b, lab_b = await intake.new_lab("B")
    for url, kinds, field_path in (
        ("ftp://example.com/x", ["items.delivered"], "endpoint.url"),
        ("https://user:pw@example.com/", ["items.delivered"], "endpoint.url"),
        ("https://example.com/", [], "endpoint.event_types"),
        ("https://example.com/", ["items.gone"], "endpoint.event_types[0]"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.CreateEndpoint(
                pb.CreateEndpointRequest(endpoint=pb.Endpoint(url=url, event_types=kinds)), metadata=lab_a
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and field_path in err.value.details()
    endpoint_id, secret = await register(intake, lab_a, "https://example.com/hooks", "project.completed")
    assert secret.startswith("whsec_")
    listed = (await stub.ListEndpoints(pb.ListEndpointsRequest(), metadata=lab_a)).endpoints
    assert [e.endpoint_id for e in listed] == [endpoint_id] and "whsec" not in str(listed)
    assert (await stub.ListEndpoints(pb.ListEndpointsRequest(), metadata=lab_b)).endpoints == []
    for call in (
        stub.DeleteEndpoint(pb.DeleteEndpointRequest(endpoint_id=endpoint_id), metadata=lab_b),
        stub.ListDeliveries(pb.ListDeliveriesRequest(endpoint_id=endpoint_id), metadata=lab_b),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
    disabled = await stub.UpdateEndpoint(
        pb.UpdateEndpointRequest(
            endpoint=pb.Endpoint(endpoint_id=endpoint_id, disabled=True), update_mask={"paths": ["disabled"]}
        ),
        metadata=lab_a,
    )
    assert disabled.endpoint.state == pb.ENDPOINT_STATE_DISABLED
    assert list(disabled.endpoint.event_types) == ["project.completed"], "unmasked fields kept"
    await stub.DeleteEndpoint(pb.DeleteEndpointRequest(endpoint_id=endpoint_id), metadata=lab_a)
    assert (await stub.ListEndpoints(pb.ListEndpointsRequest(), metadata=lab_a)).endpoints == []


async def test_a_screening_decision_is_announced_with_the_labs_own_pseudonym(make_intake, events):
    from cohort.events.v1 import quality_pb2

    async with make_intake(**FAST_RETRIES) as intake, serving(Receiver()) as rx:
        _lab_id, lab = await intake.new_lab()
        _endpoint_id, secret = await register(intake, lab, f"http://127.0.0.1:{rx.port}/", "screening.finished")
        pid = await project_with_tasks(intake, lab, target=1)
        decided = quality_pb2.QualificationDecided(
            expert_id="exp_real", project_id=pid, passed=True, correct=4, answered=5
        )
        await events.send("cohort.qa.expert_quality.v1", "exp_real", decided)
        await until(lambda: len(rx.delivered()) == 1, "the announcement")
        (only,) = rx.delivered().values()
        body = Webhook(secret).verify(only.body, only.headers)
        assert body["type"] == "screening.finished"
        data = body["data"]
        assert (data["project_id"], data["passed"], data["correct"], data["answered"]) == (pid, True, 4, 5)
        assert data["expert"].startswith("xp_") and "exp_real" not in only.body


async def test_signing_secrets_are_kept_sealed_and_clear_ones_are_sealed_at_start(make_intake, events):
    async with serving(Receiver()) as rx:
        async with make_intake(**FAST_RETRIES) as intake:
            _lab_id, lab = await intake.new_lab()
            endpoint_id, secret = await register(intake, lab, f"http://127.0.0.1:{rx.port}/", "items.delivered")
            stored = await intake.pool.fetchval(
                "SELECT secret FROM webhook_endpoints WHERE endpoint_id = $1::text::uuid", endpoint_id
            )
            assert stored.startswith("sealed:v1:") and secret.removeprefix("whsec_") not in stored
            # As an earlier version kept it: in clear.
            await intake.pool.execute(
                "UPDATE webhook_endpoints SET secret = $2 WHERE endpoint_id = $1::text::uuid", endpoint_id, secret
            )
            pid = await project_with_tasks(intake, lab, target=2)
        async with make_intake(**FAST_RETRIES) as intake:

            async def sealed():
                value = await intake.pool.fetchval(
                    "SELECT secret FROM webhook_endpoints WHERE endpoint_id = $1::text::uuid", endpoint_id
                )
                return value if value.startswith("sealed:v1:") else None

            await eventually(sealed, 10, "the clear secret sealed at start")
            await events.send("cohort.qa.items.v1", pid, item(pid, "t0"))
            await until(lambda: len(rx.delivered()) == 1, "the delivery")
            (only,) = rx.delivered().values()
            Webhook(secret).verify(only.body, only.headers)

            # A sealed secret moved into another endpoint's row does not open there: no delivery is
            # signed with it, and the log says why.
            other_id, _ = await register(intake, lab, f"http://127.0.0.1:{rx.port}/other", "items.delivered")
            await intake.pool.execute(
                """UPDATE webhook_endpoints SET secret = (SELECT secret FROM webhook_endpoints
                   WHERE endpoint_id = $1::text::uuid) WHERE endpoint_id = $2::text::uuid""",
                endpoint_id,
                other_id,
            )
            await events.send("cohort.qa.items.v1", pid, item(pid, "t1"))
            stub = webhooks_pb2_grpc.WebhookServiceStub(intake.channel)

            async def refused():
                log = (
                    await stub.ListDeliveries(pb.ListDeliveriesRequest(endpoint_id=other_id), metadata=lab)
                ).deliveries
                return log if log and "integrity" in log[0].last_error else None

            await eventually(refused, 15, "the moved secret refused")
            await until(lambda: len(rx.delivered()) == 2, "the first endpoint's second delivery")
            assert len(rx.got) == 2, "nothing reached the receiver unsigned or signed with a moved secret"

    async with make_intake(webhook_secret_key=None) as intake:
        _lab_id, lab = await intake.new_lab()
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await register(intake, lab, "https://example.com/hooks", "items.delivered")
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "not enabled" in (err.value.details() or "")
