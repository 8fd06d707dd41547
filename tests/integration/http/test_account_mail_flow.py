"""Registering, verifying and resetting a password end to end, on SQLite, PostgreSQL and
MariaDB, with the mail going through a real SMTP server that is down at first."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest

from talia_core.shared.clock import FakeClock
from tests.api import PASSWORD, Api, assert_problem, open_api, settings_for_tests
from tests.conftest import Engines
from tests.databases import BACKENDS, empty_tables
from tests.smtp_server import Mailbox, smtp_server

EMAIL = "nora@example.com"
_LINK = re.compile(r"/(verify-email|reset-password)\?token=([A-Za-z0-9_-]+)")


@pytest.fixture
def smtp() -> Iterator[tuple[int, Mailbox]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=BACKENDS)
async def api(
    request: pytest.FixtureRequest,
    engines: Engines,
    clock: FakeClock,
    smtp: tuple[int, Mailbox],
) -> AsyncIterator[Api]:
    engine = await engines.get(request.param)
    url = engine.url.render_as_string(hide_password=False)
    mail = {"backend": "smtp", "host": "127.0.0.1", "port": smtp[0], "tls": "none"}

    def real_smtp(container: object) -> None:
        container.gateways.email_sender.reset_override()  # type: ignore[attr-defined]

    async with open_api(
        settings_for_tests(url, email=mail), clock=clock, prepare=real_smtp
    ) as opened:
        yield opened
    await empty_tables(engine)


async def delivered_tokens(api: Api, mailbox: Mailbox, page: str) -> list[str]:
    """Run the due jobs; the tokens of the links to ``page`` the mail server took."""
    await api.run_jobs()
    links = [_LINK.findall(str(m.get_content())) for m in mailbox.parsed() if m["To"] == EMAIL]
    return [token for found in links for kind, token in found if kind == page]


async def test_a_registration_mailed_while_the_server_is_down_arrives_later_and_verifies(
    api: Api, smtp: tuple[int, Mailbox], clock: FakeClock
) -> None:
    _, mailbox = smtp
    mailbox.busy = 1_000
    registered = await api.client.post(
        "/api/auth/register", json={"email": EMAIL, "password": PASSWORD, "name": "Nora"}
    )
    assert registered.status_code == 202, registered.text
    assert await delivered_tokens(api, mailbox, "verify-email") == []
    assert mailbox.parsed() == []

    mailbox.busy = 0
    clock.advance(timedelta(hours=1))
    [token] = await delivered_tokens(api, mailbox, "verify-email")
    verified = await api.client.post("/api/auth/verify", json={"token": token})

    assert verified.status_code == 200, verified.text
    assert verified.json()["email_verified"] is True


async def test_a_password_is_reset_once_through_the_mailed_link(
    api: Api, smtp: tuple[int, Mailbox]
) -> None:
    _, mailbox = smtp
    await api.client.post(
        "/api/auth/register", json={"email": EMAIL, "password": PASSWORD, "name": "Nora"}
    )
    signed_in = await api.client.post(
        "/api/auth/login", json={"email": EMAIL, "password": PASSWORD}
    )
    forgot = await api.client.post("/api/auth/password/forgot", json={"email": EMAIL})
    assert forgot.status_code == 202, forgot.text
    [token] = await delivered_tokens(api, mailbox, "reset-password")
    body = {"token": token, "password": "brand new pass 7"}

    reset = await api.client.post("/api/auth/password/reset", json=body)
    again = await api.client.post("/api/auth/password/reset", json=body)

    assert reset.status_code == 204, reset.text
    assert_problem(again, 422, "token")
    headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    assert_problem(await api.client.get("/api/auth/me", headers=headers), 401)
    logged = await api.client.post(
        "/api/auth/login", json={"email": EMAIL, "password": "brand new pass 7"}
    )
    assert logged.status_code == 200, logged.text
