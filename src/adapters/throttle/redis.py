"""Attempt counters in Redis, shared by every worker; the key's TTL is the window."""

from __future__ import annotations

import math

from redis.asyncio import Redis
from redis.exceptions import RedisError

from talia_core.identity.ports import AttemptWindow
from talia_core.shared.errors import ExternalServiceUnavailable

# One round trip, atomic: count, and give the key its window if it has none yet.
_HIT = """
local count = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return {count, redis.call('PTTL', KEYS[1])}
"""

# Never below zero, and never on a key without a window (DECR would make one without TTL).
_TAKE_BACK = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
  redis.call('DECR', KEYS[1])
end
"""


def _window(count: int | bytes | str, ttl_ms: int) -> AttemptWindow:
    return AttemptWindow(count=int(count), resets_in_seconds=math.ceil(max(ttl_ms, 0) / 1000))


class RedisAttemptStore:
    def __init__(self, client: Redis, *, prefix: str = "talia:attempts:") -> None:
        self._client = client
        self._prefix = prefix
        self._hit = client.register_script(_HIT)
        self._take_back = client.register_script(_TAKE_BACK)

    async def current(self, key: str) -> AttemptWindow:
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.get(self._prefix + key)
                pipe.pttl(self._prefix + key)
                count, ttl_ms = await pipe.execute()
        except RedisError as error:
            raise ExternalServiceUnavailable("redis", type(error).__name__) from error
        return _window(count, ttl_ms) if count else AttemptWindow(0, 0)

    async def hit(self, key: str, *, window_seconds: int) -> AttemptWindow:
        try:
            count, ttl_ms = await self._hit(keys=[self._prefix + key], args=[window_seconds * 1000])
        except RedisError as error:
            raise ExternalServiceUnavailable("redis", type(error).__name__) from error
        return _window(count, ttl_ms)

    async def take_back(self, key: str) -> None:
        try:
            await self._take_back(keys=[self._prefix + key])
        except RedisError as error:
            raise ExternalServiceUnavailable("redis", type(error).__name__) from error

    async def clear(self, key: str) -> None:
        try:
            await self._client.delete(self._prefix + key)
        except RedisError as error:
            raise ExternalServiceUnavailable("redis", type(error).__name__) from error


class RedisProbe:
    """Readiness of the Redis server; ``critical`` when the instance cannot serve without it
    (the job queue lives there), not when only the login throttle does (it falls back to
    counting per worker, ``adapters.throttle.fallback``)."""

    name = "redis"

    def __init__(self, client: Redis, *, critical: bool) -> None:
        self._client = client
        self.critical = critical

    async def check(self) -> None:
        try:
            await self._client.ping()
        except RedisError as error:
            raise ExternalServiceUnavailable("redis", type(error).__name__) from error
