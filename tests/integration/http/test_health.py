"""Liveness, readiness and metrics of the real app, with its dependencies up and down."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.persistence import migrations
from entrypoints.http.health import PROBE_TIMEOUT_SECONDS
from talia_core.identity.model import Role
from tests.api import Api, open_api, settings_for_tests
from tests.databases import unavailable

REDIS_URL = "redis://127.0.0.1:6379/0"
CLOSED_PORT_URLS = [
    pytest.param("postgresql+asyncpg://postgres@127.0.0.1:1/x", id="postgresql"),
    pytest.param("mysql+asyncmy://root@127.0.0.1:1/x", id="mysql"),
]


def dependency(body: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [d for d in body["dependencies"] if d["name"] == name]
    return found


async def test_the_service_is_live(api: Api) -> None:
    response = await api.client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_the_service_is_ready_with_its_database_up(api: Api) -> None:
    response = await api.client.get("/health/ready")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert dependency(body, "database") == {
        "name": "database",
        "status": "up",
        "critical": True,
        "detail": None,
    }
    assert isinstance(body["circuit_breakers"], list)


@pytest.mark.parametrize("url", CLOSED_PORT_URLS)
async def test_an_unreachable_database_makes_the_service_unready_quickly(url: str) -> None:
    async with open_api(settings_for_tests(url)) as api:
        started = time.monotonic()
        response = await api.client.get("/health/ready")
        elapsed = time.monotonic() - started

    assert response.status_code == 503, response.text
    body = response.json()
    assert body["status"] == "unready"
    database = dependency(body, "database")
    assert (database["status"], database["critical"]) == ("down", True)
    assert database["detail"]
    assert elapsed < PROBE_TIMEOUT_SECONDS + 0.5


async def test_an_unopenable_sqlite_file_makes_the_service_unready(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/no/such/directory/talia.db"
    async with open_api(settings_for_tests(url)) as api:
        response = await api.client.get("/health/ready")

    assert response.status_code == 503, response.text
    assert dependency(response.json(), "database")["status"] == "down"


async def test_liveness_does_not_depend_on_the_database() -> None:
    async with open_api(settings_for_tests("postgresql+asyncpg://postgres@127.0.0.1:1/x")) as api:
        response = await api.client.get("/health")

    assert response.status_code == 200


@pytest.mark.parametrize("url", CLOSED_PORT_URLS)
async def test_an_unreachable_database_answers_requests_with_a_503_problem(url: str) -> None:
    async with open_api(settings_for_tests(url)) as api:
        response = await api.client.post(
            "/api/contact-messages",
            json={"name": "Luis", "email": "luis@example.com", "body": "Hello"},
        )

    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"


# --- Redis as the throttle backend -------------------------------------------------------


@pytest.fixture(scope="module")
async def redis_up() -> None:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        unavailable("redis", error)
    finally:
        await client.aclose()


@pytest.fixture
async def api_on_redis(redis_up: None, tmp_path: Path) -> AsyncIterator[Api]:
    settings = settings_for_tests(
        f"sqlite+aiosqlite:///{tmp_path}/talia.db",
        auth={"throttle_backend": "redis", "argon2_time_cost": 1, "argon2_memory_kib": 64},
        redis={"url": REDIS_URL},
    )
    async with open_api(settings) as opened:
        await migrations.upgrade(opened.container.core.engine())
        yield opened


async def test_with_the_redis_throttle_redis_is_reported_but_not_critical(
    api_on_redis: Api,
) -> None:
    response = await api_on_redis.client.get("/health/ready")

    assert response.status_code == 200, response.text
    assert dependency(response.json(), "redis")["status"] == "up"
    assert dependency(response.json(), "redis")["critical"] is False


async def test_with_the_memory_throttle_redis_is_not_a_dependency(api: Api) -> None:
    body = (await api.client.get("/health/ready")).json()

    assert "redis" not in {d["name"] for d in body["dependencies"]}


async def test_an_unreachable_throttle_redis_leaves_the_service_ready_and_logins_working() -> None:
    settings = settings_for_tests(
        "sqlite+aiosqlite:///:memory:",
        auth={"throttle_backend": "redis", "argon2_time_cost": 1, "argon2_memory_kib": 64},
        redis={"url": "redis://127.0.0.1:1/0"},
    )
    async with open_api(settings, in_memory=True) as api:
        started = time.monotonic()
        response = await api.client.get("/health/ready")
        elapsed = time.monotonic() - started
        await api.user(Role.CUSTOMER)  # registers and logs in, counted per worker
        wrong = {"email": "nobody@example.com", "password": "wrong-password-1"}
        answers = [await api.client.post("/api/auth/login", json=wrong) for _ in range(6)]

    assert response.status_code == 200, response.text
    assert dependency(response.json(), "redis")["status"] == "down"
    assert elapsed < PROBE_TIMEOUT_SECONDS + 0.5
    assert [a.status_code for a in answers] == [401] * 5 + [429]


async def test_an_unreachable_redis_holding_the_job_queue_makes_the_service_unready() -> None:
    settings = settings_for_tests(
        "sqlite+aiosqlite:///:memory:",
        jobs={"backend": "saq"},
        redis={"url": "redis://127.0.0.1:1/0"},
    )
    async with open_api(settings, in_memory=True) as api:
        response = await api.client.get("/health/ready")

    assert response.status_code == 503, response.text
    assert dependency(response.json(), "redis")["critical"] is True


async def test_after_a_login_metrics_show_the_redis_circuit_breaker(api_on_redis: Api) -> None:
    await api_on_redis.user(Role.CUSTOMER)

    metrics = (await api_on_redis.client.get("/metrics")).text
    ready = (await api_on_redis.client.get("/health/ready")).json()

    states = dict(
        re.findall(
            r'^talia_circuit_breaker_state\{dependency="redis",state="(\w+)"\} (\S+)$',
            metrics,
            re.MULTILINE,
        )
    )
    assert states == {"closed": "1.0", "half_open": "0.0", "open": "0.0"}
    assert re.search(
        r'^talia_circuit_breaker_consecutive_failures\{dependency="redis"\} 0\.0$',
        metrics,
        re.MULTILINE,
    )
    assert [b["name"] for b in ready["circuit_breakers"]] == ["redis"]
    assert ready["circuit_breakers"][0]["state"] == "closed"
