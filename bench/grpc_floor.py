"""What one unary gRPC call costs on this machine before any work is done (`make bench-grpc-floor`).

A server that answers every call at once (no database, no logic) runs in its own process; one
client process keeps E calls in flight over one channel, as the tasking benchmark does. Two
servers are measured:

- bare: grpc.aio with no interceptors;
- chassis: the services' stack around the same empty handler: tracing instrumentation (sampling
  nothing, as the local stack runs), the metrics, error and authentication interceptors, and an
  expert token verified on every call.

Printed per server: calls/s, and CPU time per call of the server and of the client (from
/proc/<pid>/stat and the client's own process time; Linux only). An acquire+submit cycle is two
such calls, so 2 cores / (2 x (server + client CPU per call)) is the most cycles/s the two cores
could do if tasking, PostgreSQL and Kafka cost nothing: the floor under the tasking benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import grpc
from prometheus_client import CollectorRegistry

from cohort_runtime.auth import auth_interceptor
from cohort_runtime.grpc_errors import error_interceptor
from cohort_runtime.grpc_metrics import GrpcServerMetrics
from cohort_runtime.telemetry import configure_tracing
from cohort_runtime.tokens import generate_keypair, issue_token, token_authenticator

SERVICE, METHOD = "cohort.bench.v1.Floor", "Call"
# About an AcquireTask request with its metadata; the answer is the same bytes back.
REQUEST = b"\x0a\x24" + b"0" * 36


async def answer(request: bytes, _context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
    return request


async def serve(mode: str, public_pem: str) -> None:
    interceptors: list[grpc.aio.ServerInterceptor] = []
    if mode == "chassis":
        configure_tracing("grpc-floor", otlp_endpoint=None)
        metrics = GrpcServerMetrics(CollectorRegistry())
        interceptors = [metrics.interceptor(), error_interceptor(), auth_interceptor(token_authenticator(public_pem))]
    server = grpc.aio.server(interceptors=interceptors)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(SERVICE, {METHOD: grpc.unary_unary_rpc_method_handler(answer)}),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(port, flush=True)  # the port, for the parent process
    await server.wait_for_termination()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drive(port: int, token: str, in_flight: int, seconds: float, server_pid: int) -> dict[str, float]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        call: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(f"/{SERVICE}/{METHOD}")
        metadata = (("authorization", f"Bearer {token}"),)
        for _ in range(200):  # warm up both sides
            await call(REQUEST, metadata=metadata)
        done = 0
        end = time.perf_counter() + seconds

        async def caller() -> None:
            nonlocal done
            while time.perf_counter() < end:
                await call(REQUEST, metadata=metadata)
                done += 1

        client0, server0, t0 = time.process_time(), cpu_seconds(server_pid), time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(in_flight)))
        client1, server1, t1 = time.process_time(), cpu_seconds(server_pid), time.perf_counter()
    return {
        "calls_per_s": done / (t1 - t0),
        "server_us": (server1 - server0) / done * 1e6,
        "client_us": (client1 - client0) / done * 1e6,
    }


def measure(mode: str, in_flight: int, seconds: float) -> dict[str, float]:
    private_pem, public_pem = generate_keypair()
    server = subprocess.Popen(  # noqa: S603 - this interpreter, this file
        [sys.executable, __file__, "--serve", mode],
        env={**os.environ, "COHORT_FLOOR_PUBLIC_KEY": public_pem},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(server.stdout.readline()) if server.stdout else 0
        token = issue_token(private_pem, kind="expert", subject="exp_floor")
        return asyncio.run(drive(port, token, in_flight, seconds, server.pid))
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--in-flight", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--serve", choices=["bare", "chassis"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, os.environ["COHORT_FLOOR_PUBLIC_KEY"]))
        return
    for mode in ("bare", "chassis"):
        r = measure(mode, args.in_flight, args.seconds)
        per_cycle_ms = 2 * (r["server_us"] + r["client_us"]) / 1000
        print(
            f"{mode}: {r['calls_per_s']:,.0f} calls/s with {args.in_flight} in flight; CPU per call: "
            f"server {r['server_us']:.0f} us, client {r['client_us']:.0f} us -> an acquire+submit cycle "
            f"(2 calls) costs {per_cycle_ms:.2f} ms of CPU before any work: at most "
            f"{2000 / per_cycle_ms:,.0f} cycles/s on 2 cores"
        )


if __name__ == "__main__":
    main()
