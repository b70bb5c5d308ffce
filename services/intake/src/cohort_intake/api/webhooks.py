"""WebhookService: a lab registers endpoints, rotates their secrets, reads and replays deliveries."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg

from cohort.intake.v1 import webhooks_pb2 as pb
from cohort.intake.v1 import webhooks_pb2_grpc as pb_grpc
from cohort_intake.api.auth import require_lab
from cohort_intake.app import webhooks as app
from cohort_intake.domain.webhooks import EndpointState, StoredDelivery, StoredEndpoint
from cohort_runtime import FieldViolation, GrpcContext, InvalidArgument, paging
from cohort_runtime.fields import parse_uuid, timestamp
from cohort_runtime.sealing import SecretBox

_STATES = {
    EndpointState.ACTIVE: pb.ENDPOINT_STATE_ACTIVE,
    EndpointState.DISABLED: pb.ENDPOINT_STATE_DISABLED,
    EndpointState.FAILING: pb.ENDPOINT_STATE_FAILING,
}
_DELIVERY_STATES = {
    "pending": pb.DELIVERY_STATE_PENDING,
    "delivered": pb.DELIVERY_STATE_DELIVERED,
    "failed": pb.DELIVERY_STATE_FAILED,
}
_MASKABLE = {"url", "event_types", "description", "disabled"}
DEFAULT_OVERLAP = dt.timedelta(hours=24)


def endpoint_to_proto(e: StoredEndpoint) -> pb.Endpoint:
    out = pb.Endpoint(
        endpoint_id=str(e.endpoint_id),
        url=e.endpoint.url,
        event_types=[t.value for t in e.endpoint.event_types],
        description=e.endpoint.description,
        state=_STATES[e.state],
        failing_reason=e.failing_reason,
        create_time=timestamp(e.create_time),
        update_time=timestamp(e.update_time),
        disabled=e.state is EndpointState.DISABLED,
    )
    if e.previous_until is not None:
        out.previous_secret_expire_time.CopyFrom(timestamp(e.previous_until))
    return out


def delivery_to_proto(d: StoredDelivery) -> pb.Delivery:
    out = pb.Delivery(
        delivery_id=str(d.delivery_id),
        message_id=d.message_id,
        event_type=d.event_type,
        state=_DELIVERY_STATES[d.state],
        attempts=d.attempts,
        last_status_code=d.last_status,
        last_error=d.last_error,
        create_time=timestamp(d.create_time),
        payload_json=d.payload,
    )
    if d.last_latency_ms is not None:
        out.last_latency.FromMilliseconds(round(d.last_latency_ms))
    if d.deliver_time is not None:
        out.deliver_time.CopyFrom(timestamp(d.deliver_time))
    if d.state == "pending" and d.next_attempt_at is not None:
        out.next_attempt_time.CopyFrom(timestamp(d.next_attempt_at))
    return out


class WebhookServicer(pb_grpc.WebhookServiceServicer):
    def __init__(self, pool: asyncpg.Pool, box: SecretBox | None) -> None:
        self._pool = pool
        self._box = box

    async def CreateEndpoint(
        self, request: pb.CreateEndpointRequest, context: GrpcContext
    ) -> pb.CreateEndpointResponse:
        lab_id = require_lab()
        e = request.endpoint
        stored, secret = await app.create_endpoint(
            self._pool, self._box, lab_id, e.url, list(e.event_types), e.description
        )
        return pb.CreateEndpointResponse(endpoint=endpoint_to_proto(stored), secret=secret)

    async def ListEndpoints(self, request: pb.ListEndpointsRequest, context: GrpcContext) -> pb.ListEndpointsResponse:
        lab_id = require_lab()
        return pb.ListEndpointsResponse(
            endpoints=[endpoint_to_proto(e) for e in await app.list_endpoints(self._pool, lab_id)]
        )

    async def UpdateEndpoint(
        self, request: pb.UpdateEndpointRequest, context: GrpcContext
    ) -> pb.UpdateEndpointResponse:
        lab_id = require_lab()
        endpoint_id = parse_uuid(request.endpoint.endpoint_id, "endpoint.endpoint_id")
        paths = list(request.update_mask.paths)
        unknown = [p for p in paths if p not in _MASKABLE]
        if not paths or unknown:
            raise InvalidArgument(
                [FieldViolation("update_mask", f"must name some of {sorted(_MASKABLE)}; got {paths}")]
            )
        e = request.endpoint
        values: dict[str, Any] = {
            "url": e.url, "event_types": list(e.event_types), "description": e.description, "disabled": e.disabled,
        }  # fmt: skip
        changed = await app.update_endpoint(self._pool, lab_id, endpoint_id, {p: values[p] for p in paths})
        return pb.UpdateEndpointResponse(endpoint=endpoint_to_proto(changed))

    async def RotateEndpointSecret(
        self, request: pb.RotateEndpointSecretRequest, context: GrpcContext
    ) -> pb.RotateEndpointSecretResponse:
        lab_id = require_lab()
        endpoint_id = parse_uuid(request.endpoint_id, "endpoint_id")
        overlap = request.overlap.ToTimedelta() if request.HasField("overlap") else DEFAULT_OVERLAP
        stored, secret = await app.rotate_secret(self._pool, self._box, lab_id, endpoint_id, overlap)
        return pb.RotateEndpointSecretResponse(endpoint=endpoint_to_proto(stored), secret=secret)

    async def DeleteEndpoint(
        self, request: pb.DeleteEndpointRequest, context: GrpcContext
    ) -> pb.DeleteEndpointResponse:
        lab_id = require_lab()
        await app.delete_endpoint(self._pool, lab_id, parse_uuid(request.endpoint_id, "endpoint_id"))
        return pb.DeleteEndpointResponse()

    async def ListDeliveries(
        self, request: pb.ListDeliveriesRequest, context: GrpcContext
    ) -> pb.ListDeliveriesResponse:
        lab_id = require_lab()
        endpoint_id = parse_uuid(request.endpoint_id, "endpoint_id")
        size = paging.page_size(request.page_size)
        query = {"lab": str(lab_id), "endpoint": str(endpoint_id)}
        before = paging.decode_keyset(request.page_token, query, dt.datetime.fromisoformat, uuid.UUID)
        rows = await app.deliveries(self._pool, lab_id, endpoint_id, before, size + 1)
        more, rows = len(rows) > size, rows[:size]
        token = paging.encode([rows[-1].create_time.isoformat(), str(rows[-1].delivery_id)], query) if more else ""
        return pb.ListDeliveriesResponse(deliveries=[delivery_to_proto(d) for d in rows], next_page_token=token)

    async def ReplayDeliveries(
        self, request: pb.ReplayDeliveriesRequest, context: GrpcContext
    ) -> pb.ReplayDeliveriesResponse:
        lab_id = require_lab()
        delivery_id = parse_uuid(request.delivery_id, "delivery_id") if request.delivery_id else None
        endpoint_id = parse_uuid(request.endpoint_id, "endpoint_id") if request.endpoint_id else None
        since = request.since.ToDatetime(tzinfo=dt.UTC) if request.HasField("since") else None
        queued = await app.replay(self._pool, lab_id, delivery_id, endpoint_id, since)
        return pb.ReplayDeliveriesResponse(queued=queued)
