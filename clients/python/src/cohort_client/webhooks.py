"""A lab's webhook endpoints and their delivery log (`lab.webhooks`, sync and asyncio).

    with LabClient("intake.example:443", api_key="ck_...", secure=True) as lab:
        endpoint, secret = lab.webhooks.create("https://lab.example/hooks", ["items.delivered"])
        for delivery in lab.webhooks.deliveries(endpoint.endpoint_id): ...

Verify what arrives with any Standard Webhooks library and the secret (docs/WEBHOOKS.md). Reads
and updates are retried on UNAVAILABLE; creating, rotating, deleting and replaying are not (a lost
reply is surfaced rather than repeated).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp

from cohort.intake.v1 import webhooks_pb2 as pb
from cohort.intake.v1 import webhooks_pb2_grpc
from cohort_client._calls import CallPolicy, acall, apages, call, pages

Metadata = tuple[tuple[str, str], ...]


def _update(
    endpoint_id: str,
    url: str | None,
    event_types: list[str] | None,
    description: str | None,
    disabled: bool | None,
) -> pb.UpdateEndpointRequest:
    values: dict[str, Any] = {"url": url, "event_types": event_types, "description": description, "disabled": disabled}
    changed = {k: v for k, v in values.items() if v is not None}
    return pb.UpdateEndpointRequest(
        endpoint=pb.Endpoint(endpoint_id=endpoint_id, **changed), update_mask=FieldMask(paths=sorted(changed))
    )


def _rotate(endpoint_id: str, overlap: dt.timedelta | None) -> pb.RotateEndpointSecretRequest:
    request = pb.RotateEndpointSecretRequest(endpoint_id=endpoint_id)
    if overlap is not None:
        request.overlap.FromTimedelta(overlap)
    return request


def _replay(delivery_id: str | None, endpoint_id: str | None, since: dt.datetime | None) -> pb.ReplayDeliveriesRequest:
    request = pb.ReplayDeliveriesRequest(delivery_id=delivery_id or "", endpoint_id=endpoint_id or "")
    if since is not None:
        stamp = Timestamp()
        stamp.FromDatetime(since)
        request.since.CopyFrom(stamp)
    return request


class Webhooks:
    def __init__(self, channel: grpc.Channel, metadata: Metadata, policy: CallPolicy) -> None:
        self._stub = webhooks_pb2_grpc.WebhookServiceStub(channel)
        self._md = metadata
        self._policy = policy

    def create(self, url: str, event_types: list[str], description: str = "") -> tuple[pb.Endpoint, str]:
        """The endpoint and its signing secret (shown this once)."""
        request = pb.CreateEndpointRequest(
            endpoint=pb.Endpoint(url=url, event_types=event_types, description=description)
        )
        reply = call(self._policy, self._stub.CreateEndpoint, request, self._md, safe=False)
        return reply.endpoint, reply.secret

    def endpoints(self) -> list[pb.Endpoint]:
        return list(
            call(self._policy, self._stub.ListEndpoints, pb.ListEndpointsRequest(), self._md, safe=True).endpoints
        )

    def update(
        self,
        endpoint_id: str,
        *,
        url: str | None = None,
        event_types: list[str] | None = None,
        description: str | None = None,
        disabled: bool | None = None,
    ) -> pb.Endpoint:
        request = _update(endpoint_id, url, event_types, description, disabled)
        return call(self._policy, self._stub.UpdateEndpoint, request, self._md, safe=True).endpoint

    def rotate_secret(self, endpoint_id: str, overlap: dt.timedelta | None = None) -> tuple[pb.Endpoint, str]:
        reply = call(self._policy, self._stub.RotateEndpointSecret, _rotate(endpoint_id, overlap), self._md, safe=False)
        return reply.endpoint, reply.secret

    def delete(self, endpoint_id: str) -> None:
        request = pb.DeleteEndpointRequest(endpoint_id=endpoint_id)
        call(self._policy, self._stub.DeleteEndpoint, request, self._md, safe=False)

    def deliveries(self, endpoint_id: str, page_size: int = 100) -> Iterator[pb.Delivery]:
        """The endpoint's delivery log, newest first, every page."""

        def request(token: str) -> pb.ListDeliveriesRequest:
            return pb.ListDeliveriesRequest(endpoint_id=endpoint_id, page_size=page_size, page_token=token)

        for page in pages(self._policy, self._stub.ListDeliveries, request, self._md):
            yield from page.deliveries

    def replay(
        self, *, delivery_id: str | None = None, endpoint_id: str | None = None, since: dt.datetime | None = None
    ) -> int:
        """Send one delivery again, or every message of an endpoint since a time; how many were queued."""
        request = _replay(delivery_id, endpoint_id, since)
        return call(self._policy, self._stub.ReplayDeliveries, request, self._md, safe=False).queued


class AsyncWebhooks:
    def __init__(self, channel: grpc.aio.Channel, metadata: Metadata, policy: CallPolicy) -> None:
        self._stub = webhooks_pb2_grpc.WebhookServiceStub(channel)
        self._md = metadata
        self._policy = policy

    async def create(self, url: str, event_types: list[str], description: str = "") -> tuple[pb.Endpoint, str]:
        request = pb.CreateEndpointRequest(
            endpoint=pb.Endpoint(url=url, event_types=event_types, description=description)
        )
        reply = await acall(self._policy, self._stub.CreateEndpoint, request, self._md, safe=False)
        return reply.endpoint, reply.secret

    async def endpoints(self) -> list[pb.Endpoint]:
        reply = await acall(self._policy, self._stub.ListEndpoints, pb.ListEndpointsRequest(), self._md, safe=True)
        return list(reply.endpoints)

    async def update(
        self,
        endpoint_id: str,
        *,
        url: str | None = None,
        event_types: list[str] | None = None,
        description: str | None = None,
        disabled: bool | None = None,
    ) -> pb.Endpoint:
        request = _update(endpoint_id, url, event_types, description, disabled)
        return (await acall(self._policy, self._stub.UpdateEndpoint, request, self._md, safe=True)).endpoint

    async def rotate_secret(self, endpoint_id: str, overlap: dt.timedelta | None = None) -> tuple[pb.Endpoint, str]:
        request = _rotate(endpoint_id, overlap)
        reply = await acall(self._policy, self._stub.RotateEndpointSecret, request, self._md, safe=False)
        return reply.endpoint, reply.secret

    async def delete(self, endpoint_id: str) -> None:
        request = pb.DeleteEndpointRequest(endpoint_id=endpoint_id)
        await acall(self._policy, self._stub.DeleteEndpoint, request, self._md, safe=False)

    async def deliveries(self, endpoint_id: str, page_size: int = 100) -> AsyncIterator[pb.Delivery]:
        def request(token: str) -> pb.ListDeliveriesRequest:
            return pb.ListDeliveriesRequest(endpoint_id=endpoint_id, page_size=page_size, page_token=token)

        async for page in apages(self._policy, self._stub.ListDeliveries, request, self._md):
            for delivery in page.deliveries:
                yield delivery

    async def replay(
        self, *, delivery_id: str | None = None, endpoint_id: str | None = None, since: dt.datetime | None = None
    ) -> int:
        request = _replay(delivery_id, endpoint_id, since)
        return (await acall(self._policy, self._stub.ReplayDeliveries, request, self._md, safe=False)).queued
