"""What the core needs to call a dependency under a resilience policy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from talia_core.resilience.model import BreakerSnapshot
from talia_core.shared.errors import ExternalServiceUnavailable

T = TypeVar("T")


class ResilienceRunner(Protocol):
    """Runs calls to one named dependency with timeout, retry, breaker, bulkhead and fallback.

    When the breaker is open, the bulkhead stays full past its wait, the timeout hits or the
    retries run out, ``run`` raises ``ExternalServiceUnavailable`` for ``name`` (with a
    retry-after hint when one is known), or returns what ``fallback`` makes of that error.
    Other core errors pass through untouched. ``idempotent=False`` never repeats an attempt,
    for calls the dependency may have acted on before failing (payments, sent messages).
    """

    @property
    def name(self) -> str: ...

    async def run(
        self,
        operation: Callable[[], Awaitable[T]],
        *,
        fallback: Callable[[ExternalServiceUnavailable], Awaitable[T]] | None = None,
        idempotent: bool = True,
    ) -> T: ...

    def snapshot(self) -> BreakerSnapshot: ...
