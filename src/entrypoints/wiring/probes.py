"""Readiness probes: what ``/health/ready`` checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.probe import SqlAlchemyDatabaseProbe
from adapters.throttle.redis import RedisProbe
from entrypoints.settings import JobBackend, Settings, ThrottleBackend


class Probe(Protocol):
    """A dependency readiness check; ``critical`` ones make the service unready."""

    @property
    def name(self) -> str: ...

    @property
    def critical(self) -> bool: ...

    async def check(self) -> None: ...


def readiness_probes(
    settings: Settings, engine: AsyncEngine, redis: Redis, files: Probe
) -> Sequence[Probe]:
    """The database and the file store always; Redis when the throttle or the job queue (SAQ)
    lives there, critical only for the job queue."""
    probes: list[Probe] = [SqlAlchemyDatabaseProbe(engine), files]
    saq = settings.jobs.backend is JobBackend.SAQ
    if saq or settings.auth.throttle_backend is ThrottleBackend.REDIS:
        probes.append(RedisProbe(redis, critical=saq))
    return probes
