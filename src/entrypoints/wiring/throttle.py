"""The login throttle's counts on Redis, shared by every worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from talia_core.identity.ports import AttemptStore

if TYPE_CHECKING:
    from redis.asyncio import Redis


def redis_attempt_store(client: Redis) -> AttemptStore:
    """redis-py's scripts are registered here, so the adapter is imported only when the
    settings put the throttle on Redis."""
    from adapters.throttle.redis import RedisAttemptStore

    return RedisAttemptStore(client)
