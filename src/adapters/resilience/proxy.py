"""Route every coroutine method of an adapter through a runner, whatever its port."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Collection
from typing import Any, TypeVar, cast

from talia_core.resilience.ports import ResilienceRunner

T = TypeVar("T")

_ENDED = object()  # what a stream's opening gives when the stream yields nothing


def resilient(target: T, runner: ResilienceRunner, *, non_idempotent: Collection[str] = ()) -> T:
    """``target`` seen through ``runner``: same attributes, coroutine methods run resiliently.

    Methods named in ``non_idempotent`` are never repeated (the dependency may have acted on a
    failed attempt). An async generator method (a stream) is opened through the runner: its
    first item is awaited under the runner's timeout, retries and breaker; the rest flows
    as it comes and is never retried midway (the caller has seen part of it). Dunder methods
    (``async with``) are not wrapped.
    """
    unknown = [name for name in non_idempotent if not _is_runnable(getattr(target, name, None))]
    if unknown:
        raise ValueError(f"{type(target).__name__} has no coroutine methods named {unknown}")
    return cast(T, _Resilient(target, runner, frozenset(non_idempotent)))


def _is_runnable(method: object) -> bool:
    return inspect.iscoroutinefunction(method) or inspect.isasyncgenfunction(method)


class _Resilient:
    __slots__ = ("_non_idempotent", "_runner", "_target")

    def __init__(
        self, target: object, runner: ResilienceRunner, non_idempotent: frozenset[str]
    ) -> None:
        self._target = target
        self._runner = runner
        self._non_idempotent = non_idempotent

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._target, name)
        idempotent = name not in self._non_idempotent
        if inspect.isasyncgenfunction(method):
            return _stream_through(self._runner, method, idempotent)
        if not inspect.iscoroutinefunction(method):
            return method
        runner = self._runner

        @functools.wraps(method)
        async def through_runner(*args: Any, **kwargs: Any) -> Any:
            return await runner.run(lambda: method(*args, **kwargs), idempotent=idempotent)

        return through_runner


def _stream_through(
    runner: ResilienceRunner, method: Callable[..., AsyncGenerator[Any, None]], idempotent: bool
) -> Callable[..., AsyncIterator[Any]]:
    @functools.wraps(method)
    async def opened_through_runner(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        async def opening() -> tuple[AsyncGenerator[Any, None], Any]:
            items = method(*args, **kwargs)
            try:
                return items, await anext(items, _ENDED)
            except BaseException:
                await items.aclose()
                raise

        items, first = await runner.run(opening, idempotent=idempotent)
        try:
            if first is not _ENDED:
                yield first
            async for item in items:
                yield item
        finally:
            await items.aclose()

    return opened_through_runner
