"""`python -m cohort_runtime.probe HOST:PORT [--wait SECONDS]`: exit 0 once the gRPC health service
answers SERVING. Used by the local stack scripts, and by Kubernetes when the port speaks TLS (its
native gRPC probe cannot): over TLS when COHORT_TLS_CA_FILE names the CA to trust, presenting the
service's own certificate when the port asks for one (COHORT_TLS_CLIENT_CA_FILE set)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cohort_runtime.tls import channel


def _channel(target: str) -> grpc.aio.Channel:
    ca = os.environ.get("COHORT_TLS_CA_FILE")
    mutual = os.environ.get("COHORT_TLS_CLIENT_CA_FILE")
    cert, key = os.environ.get("COHORT_TLS_CERT_FILE"), os.environ.get("COHORT_TLS_KEY_FILE")
    client_cert = (Path(cert), Path(key)) if mutual and cert and key else None
    # The certificate names the service, not 127.0.0.1: COHORT_TLS_SERVER_NAME says which name to check.
    server_name = os.environ.get("COHORT_TLS_SERVER_NAME", "")
    return channel(target, Path(ca) if ca else None, client_cert=client_cert, server_name=server_name)


async def serving(target: str) -> bool:
    async with _channel(target) as channel:
        try:
            stub = health_pb2_grpc.HealthStub(channel)
            # The stubs type HealthStub for sync channels; on an aio channel Check is awaitable.
            reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1.0)  # type: ignore[attr-defined]
        except grpc.aio.AioRpcError:
            return False
    serving_now: bool = reply.status == health_pb2.HealthCheckResponse.SERVING
    return serving_now


async def wait_serving(target: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        if await serving(target):
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target")
    parser.add_argument("--wait", type=float, default=0.0)
    args = parser.parse_args()
    return 0 if asyncio.run(wait_serving(args.target, args.wait)) else 1


if __name__ == "__main__":
    sys.exit(main())
