"""Readiness probes: what ``/health/ready`` checks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.probe import SqlAlchemyDatabaseProbe
from entrypoints.settings import JobBackend, Settings
from entrypoints.wiring.choices import uses_redis

if TYPE_CHECKING:
    from redis.asyncio import Redis


class Probe(Protocol):
    """A dependency readiness check; ``critical`` ones make the service unready."""

    @property
    def name(self) -> str: ...

    @property
    def critical(self) -> bool: ...

    async def check(self) -> None: ...


def readiness_probes(
    settings: Settings, engine: AsyncEngine, redis: Callable[[], Redis], files: Probe
) -> Sequence[Probe]:
    """The database and the file store always; Redis when the throttle or the job queue (SAQ)
    lives there, critical only for the job queue."""
    probes: list[Probe] = [SqlAlchemyDatabaseProbe(engine), files]
    if uses_redis(settings):
        from adapters.throttle.redis import RedisProbe

        probes.append(RedisProbe(redis(), critical=settings.jobs.backend is JobBackend.SAQ))
    return probes
