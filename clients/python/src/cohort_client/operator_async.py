"""The operator APIs for asyncio code: `AsyncOperatorClient` offers every method of
`OperatorClient` as a coroutine.

    async with AsyncOperatorClient(Endpoints(), token) as op:
        await op.create_cohort("pilot", "Pilot")
        cohorts = await op.cohorts()          # methods that yield return a list here

Each call runs the synchronous client's method on a worker thread: operator calls are few and
rarely concurrent, and this keeps one implementation of their deadlines, retries and error
mapping (CohortError) for both. Lab traffic, which is heavy, has a native asyncio client
(`AsyncLabClient`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from cohort_client._calls import CallPolicy
from cohort_client.operator import Endpoints, OperatorClient


class AsyncOperatorClient:
    def __init__(self, endpoints: Endpoints, token: str, *, policy: CallPolicy | None = None) -> None:
        self._sync = OperatorClient(endpoints, token, policy=policy)

    async def __aenter__(self) -> AsyncOperatorClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await asyncio.to_thread(self._sync.__exit__, None, None, None)

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        if name.startswith("_"):
            raise AttributeError(name)
        method = getattr(self._sync, name)
        if not callable(method):
            raise AttributeError(f"{name} is not an operator call")  # noqa: TRY004 - what __getattr__ raises

        async def run(*args: Any, **kwargs: Any) -> Any:
            def whole() -> Any:
                result = method(*args, **kwargs)
                # A paging generator is drained on the worker thread, not on the event loop.
                return list(result) if isinstance(result, Iterator) else result

            return await asyncio.to_thread(whole)

        run.__name__ = name
        run.__doc__ = method.__doc__
        return run
