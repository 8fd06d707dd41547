"""Request ids, one structured log line per request, and Prometheus metrics."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from litestar import Response, get
from litestar.enums import ScopeType
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from entrypoints.http.auth import public
from entrypoints.logs import request_id
from talia_core.resilience.model import BreakerSnapshot
from talia_core.shared.ids import new_id
from talia_core.shared.jobs import JobsUnitOfWork
from talia_core.shared.ports import UnitOfWorkFactory

logger = logging.getLogger("talia.http")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
BREAKER_STATES = ("closed", "half_open", "open")
UNROUTED = "(unrouted)"
STAMPED = "talia.stamped"  # set on the scope of a request the middleware answered


class Metrics:
    """The app's own registry, so several apps in one process never collide."""

    def __init__(self, breakers: Callable[[], Mapping[str, BreakerSnapshot]]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "talia_http_requests",
            "HTTP requests handled",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "talia_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.jobs = Gauge(
            "talia_jobs",
            "Background jobs by status; dead ones wait for an admin to retry them",
            ["status"],
            registry=self.registry,
        )
        self.registry.register(_BreakerCollector(breakers))
        # labels() takes a lock and builds its key on every call; the children are kept.
        self._counted: dict[tuple[str, str, str], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}

    def record(self, method: str, route: str, status: int, elapsed: float | None) -> None:
        key = (method, route, str(status))
        counter = self._counted.get(key)
        if counter is None:
            counter = self._counted[key] = self.requests.labels(*key)
        counter.inc()
        if elapsed is not None:
            timer = self._timed.get(key[:2])
            if timer is None:
                timer = self._timed[key[:2]] = self.latency.labels(method, route)
            timer.observe(elapsed)


class _BreakerCollector(Collector):
    def __init__(self, breakers: Callable[[], Mapping[str, BreakerSnapshot]]) -> None:
        self._breakers = breakers

    def collect(self) -> Iterable[Metric]:
        state = GaugeMetricFamily(
            "talia_circuit_breaker_state",
            "1 for the state each outbound dependency's circuit breaker is in",
            labels=["dependency", "state"],
        )
        failures = GaugeMetricFamily(
            "talia_circuit_breaker_consecutive_failures",
            "Consecutive failures counted by each circuit breaker",
            labels=["dependency"],
        )
        for dependency, snapshot in self._breakers().items():
            for name in BREAKER_STATES:
                state.add_metric([dependency, name], float(snapshot.state.value == name))
            failures.add_metric([dependency], float(snapshot.consecutive_failures))
        yield state
        yield failures


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            incoming = value.decode("latin-1")
            return incoming if _VALID_REQUEST_ID.match(incoming) else new_id()
    return new_id()


def _log(method: str, path: str, status: int, elapsed: float | None) -> None:
    extra: dict[str, object] = {"method": method, "path": path, "status": status}
    if elapsed is not None:
        extra["duration_ms"] = round(elapsed * 1000, 2)
    logger.info("request", extra=extra)


class ObservabilityMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, metrics: Metrics, *, log_every_request: bool = True) -> None:
        self._metrics = metrics
        self._log_every_request = log_every_request

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        rid = _request_id(scope)
        scope[STAMPED] = True  # type: ignore[literal-required]
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await next_app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or scope["path"]
            method = scope["method"] if scope["type"] == ScopeType.HTTP else "GET"
            self._metrics.record(method, route, status, elapsed)
            if self._log_every_request or status >= 400:
                _log(method, scope["path"], status, elapsed)
            request_id.reset(token)


def unrouted_responses(metrics: Metrics) -> Callable[[Message, Scope], Awaitable[None]]:
    """A ``before_send`` hook for the answers the router gives itself (404, 405, a refused
    preflight): route middleware never sees them, so they get their request id, count and
    log line here."""

    async def stamp(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start" or STAMPED in scope:
            return
        if scope["type"] == ScopeType.HTTP:
            headers = list(message.get("headers", []))
            message["headers"] = [*headers, (b"x-request-id", _request_id(scope).encode())]
            metrics.record(scope["method"], UNROUTED, message["status"], None)
            _log(scope["method"], scope["path"], message["status"], None)

    return stamp


# Litestar adds the charset to a text/ type itself; prometheus_client's type has one already.
PROMETHEUS_TEXT = CONTENT_TYPE_LATEST.replace("; charset=utf-8", "")


def metrics_route(metrics: Metrics, uow: UnitOfWorkFactory[JobsUnitOfWork]) -> HTTPRouteHandler:
    @get(
        "/metrics",
        guards=[public],
        include_in_schema=True,
        tags=["health"],
        media_type=PROMETHEUS_TEXT,
    )
    async def prometheus() -> Response[bytes]:
        """Prometheus text exposition; the jobs by status are counted at each scrape."""
        try:
            async with uow(read_only=True) as work:
                counts = await work.jobs.counts()
        except Exception:  # the database may be away: the rest of the metrics still answer
            logger.warning("could not count the jobs for /metrics", exc_info=True)
        else:
            for status, count in counts.items():
                metrics.jobs.labels(status.value).set(count)
        return Response(generate_latest(metrics.registry), media_type=PROMETHEUS_TEXT)

    return prometheus
