"""What the network does to a hearing or seeing engine that calls its provider over HTTP,
the same for every port: each port's remote contract (``speech/``, ``vision/``) takes it in
with a harness that also has the attributes of ``RemoteEngineHarness``."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol

import pytest

from talia_core.shared.errors import ExternalServiceUnavailable
from tests.fakeserver import refusing_port


class RemoteEngineHarness(Protocol):
    def call(
        self, *, base_url: str | None = None, timeout_seconds: float = 5.0
    ) -> Awaitable[object]:
        """One ordinary call of an engine set up like the one under test, asking
        ``base_url`` (its provider's, by default) and waiting this long."""
        ...

    def go_busy(self, status: int, retry_after: int) -> None:
        """Make the provider answer the next request with this status (429, 503) and
        ``Retry-After`` in seconds."""
        ...

    def go_silent(self) -> None:
        """Make the provider take the next request and never answer it."""
        ...

    def requests(self) -> int:
        """How many requests the provider got."""
        ...


class RemoteEngineContract:
    @pytest.mark.parametrize("status", [429, 503])
    async def test_a_busy_provider_says_when_to_come_back(
        self, harness: RemoteEngineHarness, status: int
    ) -> None:
        harness.go_busy(status, retry_after=7)

        with pytest.raises(ExternalServiceUnavailable) as unavailable:
            await harness.call()

        assert unavailable.value.retry_after_seconds == 7

    async def test_a_provider_that_never_answers_times_out_as_unavailable(
        self, harness: RemoteEngineHarness
    ) -> None:
        harness.go_silent()

        with pytest.raises(ExternalServiceUnavailable, match="timed out"):
            await harness.call(timeout_seconds=0.2)

    async def test_a_provider_that_cannot_be_reached_is_unavailable(
        self, harness: RemoteEngineHarness
    ) -> None:
        with (
            refusing_port() as port,
            pytest.raises(ExternalServiceUnavailable, match="no answer"),
        ):
            await harness.call(base_url=f"http://127.0.0.1:{port}")

        assert harness.requests() == 0
