"""The HTTP app under test, over the in-memory fakes or a real database."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from dependency_injector import providers

from adapters.memory.database import InMemoryDatabase
from adapters.memory.email import FakeEmailSender
from adapters.memory.inbox import InMemoryInbox
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.security.passwords import FakePasswordHasher
from entrypoints.container import Container, build_container, close_resources, open_resources
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from talia_core.identity.model import Role
from talia_core.shared.clock import Clock
from talia_core.shared.email import EmailMessage
from tests.databases import database_settings

PASSWORD = "correct-horse-42"
_serial = itertools.count(1)


def settings_for_tests(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "demo_data": False,
        "database": database_settings(database_url),
        "auth": {"argon2_time_cost": 1, "argon2_memory_kib": 64},
    }
    values.update(overrides)
    # Tests of other things write as one client as fast as they like; the limit on anonymous
    # writes has tests of its own that set it.
    values["http"] = {"public_writes_per_minute": 0, **overrides.get("http", {})}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class Api:
    """A test client plus the container behind it, and ways to get signed-in callers."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        container: Container,
        mail: FakeEmailSender | None = None,
    ) -> None:
        self.client = client
        self.container = container
        self.mail = mail or FakeEmailSender()
        """What the app mailed (unless ``prepare`` put in another sender)."""

    async def run_jobs(self) -> None:
        """Run the due jobs, and those they add, until none is due."""
        runner = self.container.use_cases.job_runner()
        while await runner.run_due(100):
            pass

    async def mail_to(self, address: str) -> list[EmailMessage]:
        """Run the due jobs (the mail ones among them); every message mailed to ``address``."""
        await self.run_jobs()
        return [message for message in self.mail.sent if message.to == address]

    async def user(self, role: Role = Role.CUSTOMER) -> tuple[str, dict[str, str]]:
        """A new user of ``role``: their id and the headers that sign them in."""
        email = f"{role.value}{next(_serial)}@example.com"
        if role is Role.CUSTOMER:
            response = await self.client.post(
                "/api/auth/register", json={"email": email, "password": PASSWORD, "name": "Ana"}
            )
            assert response.status_code == 202, response.text
        elif role is Role.ADMIN:
            users = self.container.use_cases.users()
            await users.provision(email=email, name="Admin", password=PASSWORD, role=Role.ADMIN)
        else:
            _, admin = await self.user(Role.ADMIN)
            staff = {"email": email, "password": PASSWORD, "name": "Staff", "role": role.value}
            response = await self.client.post("/api/admin/users", json=staff, headers=admin)
            assert response.status_code == 201, response.text
        login = await self.client.post(
            "/api/auth/login", json={"email": email, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        body = login.json()
        return body["user"]["id"], {"Authorization": f"Bearer {body['access_token']}"}


@asynccontextmanager
async def open_api(
    settings: Settings,
    *,
    in_memory: bool = False,
    clock: Clock | None = None,
    prepare: Callable[[Container], None] | None = None,
) -> AsyncIterator[Api]:
    """The app over ``settings``; ``clock`` (a ``FakeClock``) replaces the system clock;
    mail goes to a ``FakeEmailSender`` (``Api.mail``); ``prepare`` overrides more providers
    (fakes of outbound adapters) before any is used."""
    container = build_container(settings)
    mail = FakeEmailSender()
    container.gateways.email_sender.override(providers.Object(mail))
    if prepare is not None:
        prepare(container)
    if clock is not None:
        # Before anything resolves a use case, so every service and store shares this clock.
        container.core.clock.override(providers.Object(clock))
    if in_memory:
        database = InMemoryDatabase()
        container.gateways.unit_of_work.override(providers.Factory(InMemoryUnitOfWork, database))
        container.gateways.inbox.override(providers.Object(InMemoryInbox(database)))
        container.gateways.inbox_lifetime.override(providers.Object(None))
        container.gateways.password_hasher.override(providers.Singleton(FakePasswordHasher))
    # In the test's own event loop (Litestar's test client runs the app in another thread's
    # loop), so tests may also call use cases on the container directly.
    await open_resources(container)
    transport = httpx.ASGITransport(app=create_app(container))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://talia.test") as client:
            yield Api(client, container, mail)
    finally:
        await close_resources(container)


PROBLEM_JSON = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, *fields: str | None) -> dict[str, Any]:
    """An RFC 9457 document of ``status``; a validation problem names each of ``fields``
    (``None`` stands for no field, for parametrised cases); a 401 says the scheme."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert isinstance(problem["title"], str)
    assert problem["title"]
    assert isinstance(problem["detail"], str)
    assert problem["detail"]
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    named = {error["field"] for error in problem.get("errors", [])}
    missing = {field for field in fields if field is not None} - named
    assert not missing, f"{sorted(missing)} not among the problem's fields {sorted(named)}"
    return problem
