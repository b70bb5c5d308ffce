"""`python -m cohort_runtime.probe HOST:PORT [--wait SECONDS]`: exit 0 once the gRPC health service
answers SERVING. Used by the local stack scripts (Kubernetes uses its native gRPC probe)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


async def serving(target: str) -> bool:
    async with grpc.aio.insecure_channel(target) as channel:
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
