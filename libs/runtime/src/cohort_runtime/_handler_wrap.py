"""Wrap every kind of grpc.aio method handler in an async context manager.

Interceptors of the chassis (metrics, errors, authentication) are written as one `guard` each: an
async context manager entered around the servicer's behaviour, in the task that runs the RPC, so
exceptions pass through it and context variables it sets are seen by the servicer. Streaming
responses must be async generators (not `context.write`). The request gate also replaces the
request deserializer and passes each request through `admit` inside the guard.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeAlias

import grpc

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
Guard: TypeAlias = Callable[[Context, str], AbstractAsyncContextManager[None]]
Admit: TypeAlias = Callable[[Any, Context], Any]
"""Called with each request before the servicer sees it: returns it, or raises to refuse it."""


def _as_is(request: Any, _context: Context) -> Any:
    return request


def wrap_handler(
    handler: Handler | None,
    method: str,
    guard: Guard,
    *,
    deserializer: Callable[[bytes], Any] | None = None,
    admit: Admit = _as_is,
) -> Any:
    if handler is None:
        return None
    parse = deserializer or handler.request_deserializer
    serialize = handler.response_serializer

    async def admitted(requests: AsyncIterator[Any], context: Context) -> AsyncIterator[Any]:
        async for request in requests:
            yield admit(request, context)

    # Client streams are passed through untouched unless something must see each request.
    stream_in: Callable[[AsyncIterator[Any], Context], AsyncIterator[Any]] = (
        (lambda requests, _context: requests) if admit is _as_is else admitted
    )
    if handler.unary_unary:
        inner_uu: Callable[..., Awaitable[Any]] = handler.unary_unary

        async def unary_unary(request: Any, context: Context) -> Any:
            async with guard(context, method):
                return await inner_uu(admit(request, context), context)

        return grpc.unary_unary_rpc_method_handler(unary_unary, parse, serialize)
    if handler.stream_unary:
        inner_su: Callable[..., Awaitable[Any]] = handler.stream_unary

        async def stream_unary(requests: Any, context: Context) -> Any:
            async with guard(context, method):
                return await inner_su(stream_in(requests, context), context)

        return grpc.stream_unary_rpc_method_handler(stream_unary, parse, serialize)
    if handler.unary_stream:
        inner_us: Callable[..., AsyncIterator[Any]] = handler.unary_stream  # type: ignore[assignment]

        async def unary_stream(request: Any, context: Context) -> AsyncIterator[Any]:
            async with guard(context, method):
                async for item in inner_us(admit(request, context), context):
                    yield item

        return grpc.unary_stream_rpc_method_handler(unary_stream, parse, serialize)
    inner_ss: Callable[..., AsyncIterator[Any]] = handler.stream_stream  # type: ignore[assignment]

    async def stream_stream(requests: Any, context: Context) -> AsyncIterator[Any]:
        async with guard(context, method):
            async for item in inner_ss(stream_in(requests, context), context):
                yield item

    return grpc.stream_stream_rpc_method_handler(stream_stream, parse, serialize)


class GuardInterceptor(grpc.aio.ServerInterceptor):
    """A server interceptor that applies `guard` to every method, or to those `applies_to` accepts."""

    def __init__(self, guard: Guard, applies_to: Callable[[str], bool] = lambda _m: True) -> None:
        self._guard = guard
        self._applies_to = applies_to

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or not self._applies_to(method):
            return handler
        return self.wrap(handler, method)

    def wrap(self, handler: Handler, method: str) -> Handler:
        """The handler the server runs instead of `handler`; subclasses may pass more to `wrap_handler`."""
        wrapped: Handler = wrap_handler(handler, method, self._guard)
        return wrapped
