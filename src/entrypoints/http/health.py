"""Liveness, readiness (every dependency and circuit breaker) and their schemas."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from litestar import Controller, Response, get
from litestar.openapi.datastructures import ResponseSpec
from pydantic import BaseModel

from entrypoints.http.auth import public
from entrypoints.wiring.probes import Probe
from talia_core.resilience.model import BreakerSnapshot

PROBE_TIMEOUT_SECONDS = 2.0
logger = logging.getLogger("talia.health")


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class DependencyState(BaseModel):
    name: str
    status: Literal["up", "down"]
    critical: bool
    detail: str | None = None


class BreakerOut(BaseModel):
    name: str
    state: str
    consecutive_failures: int
    retry_after_seconds: float


class Readiness(BaseModel):
    status: Literal["ready", "unready"]
    dependencies: list[DependencyState]
    circuit_breakers: list[BreakerOut]


UNREADY = ResponseSpec(data_container=Readiness, description="A critical dependency is down")


async def _probe(probe: Probe) -> DependencyState:
    """The answer names only the kind of failure; the details go to the log."""
    try:
        await asyncio.wait_for(probe.check(), PROBE_TIMEOUT_SECONDS)
    except Exception as error:  # any failure means the dependency is down
        logger.warning("readiness probe failed", extra={"dependency": probe.name}, exc_info=error)
        kind = "timeout" if isinstance(error, TimeoutError) else "unavailable"
        return DependencyState(name=probe.name, status="down", critical=probe.critical, detail=kind)
    return DependencyState(name=probe.name, status="up", critical=probe.critical)


def health_controller(
    probes: Sequence[Probe], breakers: Callable[[], Mapping[str, BreakerSnapshot]]
) -> type[Controller]:
    class HealthController(Controller):
        path = "/health"
        tags = ["health"]

        @get("/", guards=[public], sync_to_thread=False)
        def live(self) -> Liveness:
            """The process is up."""
            return Liveness()

        @get("/ready", guards=[public], responses={503: UNREADY})
        async def ready(self) -> Response[Readiness]:
            """Every dependency and circuit breaker; 503 while a critical dependency is down."""
            states = list(await asyncio.gather(*(_probe(p) for p in probes)))
            unready = any(s.status == "down" and s.critical for s in states)
            body = Readiness(
                status="unready" if unready else "ready",
                dependencies=states,
                circuit_breakers=[
                    BreakerOut(
                        name=name,
                        state=b.state.value,
                        consecutive_failures=b.consecutive_failures,
                        retry_after_seconds=b.retry_after_seconds,
                    )
                    for name, b in breakers().items()
                ],
            )
            return Response(body, status_code=503 if unready else 200)

    return HealthController
