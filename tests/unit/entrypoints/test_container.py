"""The container: what it builds, from which settings, and what it hands over."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from dependency_injector import providers
from redis.exceptions import ConnectionError as RedisConnectionError

from adapters.assistant.agents import AgentsAssistant
from adapters.assistant.offline import OfflineAssistant
from adapters.files.local import LocalFileStore
from entrypoints.bootstrap import Talia
from entrypoints.container import build_container
from entrypoints.http.app import create_app
from tests.api import settings_for_tests


class DroppingRedis:
    """A Redis client whose scripts never get an answer back, and which counts them."""

    def __init__(self) -> None:
        self.scripts_run = 0

    def register_script(self, script: str) -> Callable[..., Awaitable[Any]]:
        async def run(**_: Any) -> Any:
            self.scripts_run += 1
            raise RedisConnectionError("connection reset after sending")

        return run


@pytest.mark.parametrize("call", ["hit", "take_back"])
async def test_the_redis_attempt_store_never_repeats_a_count_it_may_have_made_and_counts_here(
    call: str,
) -> None:
    settings = settings_for_tests(
        "sqlite+aiosqlite:///:memory:",
        auth={"throttle_backend": "redis"},
        resilience={"retry_attempts": 3, "retry_base_delay_seconds": 0.001},
    )
    container = build_container(settings)
    redis = DroppingRedis()
    container.gateways.redis.override(providers.Object(redis))
    store = container.gateways.attempt_store()

    if call == "hit":
        assert (await store.hit("login:address:6.6.6.6", window_seconds=60)).count == 1
    else:
        await store.take_back("login:address:6.6.6.6")

    assert redis.scripts_run == 1  # then counted in this worker, not sent again


def test_every_use_case_in_process_is_a_provider_of_the_container() -> None:
    container = build_container(settings_for_tests("sqlite+aiosqlite:///:memory:"))

    talia = Talia.of(container)

    for name in Talia.names():
        assert getattr(talia, name) is getattr(container.use_cases, name)(), name


def test_the_http_app_hands_every_use_case_to_handlers_by_its_name() -> None:
    container = build_container(settings_for_tests("sqlite+aiosqlite:///:memory:"))

    app = create_app(container)

    assert set(Talia.names()) <= set(app.dependencies)


@pytest.mark.parametrize(
    ("provider", "assistant"), [("offline", OfflineAssistant), ("definitions", AgentsAssistant)]
)
def test_the_file_store_and_the_assistant_are_chosen_by_settings(
    provider: str, assistant: type
) -> None:
    settings = settings_for_tests(
        "sqlite+aiosqlite:///:memory:",
        storage={"provider": "local", "local_dir": "/tmp/talia-files"},
        assistant={"provider": provider},
    )
    container = build_container(settings)

    assert isinstance(container.gateways.files(), LocalFileStore)
    assert isinstance(container.use_cases.assistant(), assistant)
