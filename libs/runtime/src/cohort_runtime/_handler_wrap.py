"""Wrap every kind of grpc.aio method handler in an async context manager.

Interceptors of the chassis (metrics, errors, authentication) are written as one `guard` each: an
async context manager entered around the servicer's behaviour, in the task that runs the RPC, so
exceptions pass through it and context variables it sets are seen by the servicer. Streaming
responses must be async generators (not `context.write`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeAlias

import grpc

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
Guard: TypeAlias = Callable[[Context, str], AbstractAsyncContextManager[None]]


def wrap_handler(handler: Handler | None, method: str, guard: Guard) -> Any:
    if handler is None:
        return None
    if handler.unary_unary:
        inner_uu: Callable[..., Awaitable[Any]] = handler.unary_unary

        async def unary_unary(request: Any, context: Context) -> Any:
            async with guard(context, method):
                return await inner_uu(request, context)

        return grpc.unary_unary_rpc_method_handler(
            unary_unary, handler.request_deserializer, handler.response_serializer
        )
    if handler.stream_unary:
        inner_su: Callable[..., Awaitable[Any]] = handler.stream_unary

        async def stream_unary(requests: Any, context: Context) -> Any:
            async with guard(context, method):
                return await inner_su(requests, context)

        return grpc.stream_unary_rpc_method_handler(
            stream_unary, handler.request_deserializer, handler.response_serializer
        )
    if handler.unary_stream:
        inner_us: Callable[..., AsyncIterator[Any]] = handler.unary_stream  # type: ignore[assignment]

        async def unary_stream(request: Any, context: Context) -> AsyncIterator[Any]:
            async with guard(context, method):
                async for item in inner_us(request, context):
                    yield item

        return grpc.unary_stream_rpc_method_handler(
            unary_stream, handler.request_deserializer, handler.response_serializer
        )
    inner_ss: Callable[..., AsyncIterator[Any]] = handler.stream_stream  # type: ignore[assignment]

    async def stream_stream(requests: Any, context: Context) -> AsyncIterator[Any]:
        async with guard(context, method):
            async for item in inner_ss(requests, context):
                yield item

    return grpc.stream_stream_rpc_method_handler(
        stream_stream, handler.request_deserializer, handler.response_serializer
    )


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
        if not self._applies_to(method):
            return handler
        wrapped: Handler | None = wrap_handler(handler, method, self._guard)
        return wrapped
