"""One log line per request, or only the refused ones when a proxy keeps the access log."""

from __future__ import annotations

import logging

import pytest

from tests.api import open_api, settings_for_tests

MEMORY = "sqlite+aiosqlite:///:memory:"


def request_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, int]]:
    return [
        (record.__dict__["path"], record.__dict__["status"])
        for record in caplog.records
        if record.name == "talia.http" and record.getMessage() == "request"
    ]


async def test_every_request_gets_a_log_line_with_its_status(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with open_api(settings_for_tests(MEMORY), in_memory=True) as api:
        with caplog.at_level(logging.INFO, logger="talia.http"):
            await api.client.get("/api/plans")
            await api.client.get("/api/cart")

    assert request_lines(caplog) == [("/api/plans", 200), ("/api/cart", 401)]


async def test_without_the_access_log_only_refused_requests_are_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = settings_for_tests(MEMORY, http={"access_log": False})
    async with open_api(settings, in_memory=True) as api:
        with caplog.at_level(logging.INFO, logger="talia.http"):
            await api.client.get("/api/plans")
            await api.client.get("/api/cart")
            await api.client.get("/no/such/route")

    assert request_lines(caplog) == [("/api/cart", 401), ("/no/such/route", 404)]
