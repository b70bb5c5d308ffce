"""The web server inside the service process: uvicorn on the chassis' event loop, as one of its
background jobs, stopped gracefully with the rest."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp


class _EmbeddedServer(uvicorn.Server):
    # The chassis owns SIGTERM/SIGINT for the whole process; uvicorn's own handlers would take
    # them away from it.
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpServer:
    """Serves an ASGI app on host:port; `port` holds the bound port once `started` is set."""

    def __init__(self, app: ASGIApp, host: str, port: int) -> None:
        self._config = uvicorn.Config(
            app,
            host=host,
            port=port,
            http="httptools",  # HTTP parsed in C; h11, uvicorn's fallback, is pure Python
            log_config=None,
            access_log=False,
            lifespan="off",
            server_header=False,
            proxy_headers=False,  # the client address is worked out by ClientAddress
            timeout_graceful_shutdown=10,
            # Longer than an ingress keeps idle upstream connections (nginx: 60 s), so the proxy,
            # not this server, closes them: a request sent on a connection the server is closing
            # at that moment fails (seen in the benchmark with experts pausing 5 s between pages).
            timeout_keep_alive=75,
        )
        self.port = port
        self.started = asyncio.Event()

    async def run(self) -> None:
        server = _EmbeddedServer(self._config)
        serving = asyncio.ensure_future(server.serve())
        try:
            await self._until_started(server, serving)
            if server.started:
                self.port = server.servers[0].sockets[0].getsockname()[1]
                self.started.set()
            await asyncio.shield(serving)
        except asyncio.CancelledError:
            server.should_exit = True  # finish the requests in flight, then stop
            await serving
            raise

    @staticmethod
    async def _until_started(server: uvicorn.Server, serving: asyncio.Future[None]) -> None:
        # uvicorn flips `started` without an event to wait on; poll briefly until then (or failure).
        for _ in range(3000):
            if server.started or serving.done():
                return
            await asyncio.sleep(0.01)
