"""Route every coroutine method of an adapter through a runner, whatever its port."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Collection
from typing import Any, TypeVar, cast

from talia_core.resilience.ports import ResilienceRunner

T = TypeVar("T")


def resilient(target: T, runner: ResilienceRunner, *, non_idempotent: Collection[str] = ()) -> T:
    """``target`` seen through ``runner``: same attributes, coroutine methods run resiliently.

    Methods named in ``non_idempotent`` are never repeated (the dependency may have acted on a
    failed attempt). Dunder methods (``async with``) and async generators are not wrapped.
    """
    unknown = [name for name in non_idempotent if not _is_coroutine_method(target, name)]
    if unknown:
        raise ValueError(f"{type(target).__name__} has no coroutine methods named {unknown}")
    return cast(T, _Resilient(target, runner, frozenset(non_idempotent)))


def _is_coroutine_method(target: object, name: str) -> bool:
    return inspect.iscoroutinefunction(getattr(target, name, None))


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
        if not inspect.iscoroutinefunction(method):
            return method
        runner = self._runner
        idempotent = name not in self._non_idempotent

        @functools.wraps(method)
        async def through_runner(*args: Any, **kwargs: Any) -> Any:
            return await runner.run(lambda: method(*args, **kwargs), idempotent=idempotent)

        return through_runner
