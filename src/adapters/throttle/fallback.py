"""An ``AttemptStore`` that keeps counting when its shared store is down.

Login throttling is a defence, not the service: while Redis is unreachable each worker
counts in its own memory (a limit per worker instead of per deployment) and says so in the
log once per outage, rather than answering every login 503 and making the instance unready.
"""

from __future__ import annotations

import logging

from talia_core.identity.ports import AttemptStore, AttemptWindow
from talia_core.shared.errors import ExternalServiceUnavailable

logger = logging.getLogger("talia.throttle")


class FallbackAttemptStore:
    def __init__(self, shared: AttemptStore, local: AttemptStore) -> None:
        self._shared = shared
        self._local = local
        self._degraded = False

    async def current(self, key: str) -> AttemptWindow:
        try:
            window = await self._shared.current(key)
        except ExternalServiceUnavailable as error:
            self._degrade(error)
            return await self._local.current(key)
        self._recover()
        return window

    async def hit(self, key: str, *, window_seconds: int) -> AttemptWindow:
        try:
            window = await self._shared.hit(key, window_seconds=window_seconds)
        except ExternalServiceUnavailable as error:
            self._degrade(error)
            return await self._local.hit(key, window_seconds=window_seconds)
        self._recover()
        return window

    async def take_back(self, key: str) -> None:
        try:
            await self._shared.take_back(key)
        except ExternalServiceUnavailable as error:
            self._degrade(error)
            await self._local.take_back(key)

    async def clear(self, key: str) -> None:
        """Cleared in both: a count taken locally during an outage must not outlive a
        success."""
        await self._local.clear(key)
        try:
            await self._shared.clear(key)
        except ExternalServiceUnavailable as error:
            self._degrade(error)

    def _degrade(self, error: ExternalServiceUnavailable) -> None:
        if not self._degraded:
            self._degraded = True
            logger.warning("login attempts are counted per worker while %s", error.detail)

    def _recover(self) -> None:
        if self._degraded:
            self._degraded = False
            logger.warning("login attempts are counted in the shared store again")
