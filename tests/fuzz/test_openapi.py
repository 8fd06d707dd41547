"""Every operation of the OpenAPI document, fuzzed by schemathesis against the app as
``talia serve`` runs it on the embedded default (SQLite, offline providers, demo data, jobs in
process): once as the demo admin, once as an anonymous caller; on the web chat's routes both
are a visitor with a session. A 5xx, an undocumented status or content type, or a body its
schema does not describe fails the operation."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from adapters.persistence import migrations
from adapters.persistence.engine import create_database_engine
from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.seed import DEMO_ADMIN, DEMO_PASSWORD, prepare_demo
from entrypoints.settings import Settings
from tests.api import settings_for_tests

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

EXAMPLES = 10
"""Drawn per operation by the fuzzing phase; with the coverage phase's boundary cases, the
session stays within about three minutes on two cores."""

ADMIN: dict[str, Any] = {
    "seed": 2026,
    "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
    # Requests with methods a route does not have are not judged by the checks run here.
    "phases": {"stateful": {"enabled": False}, "coverage": {"unexpected-methods": []}},
    "operations": [
        {
            # With no engine configured, hearing and seeing answer 501, as they document.
            "include-path-regex": "^/api/ai/(image|speech|transcribe)$",
            "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "501"]}},
        }
    ],
}
ANONYMOUS: dict[str, Any] = {
    **ADMIN,
    "generation": {**ADMIN["generation"], "max-examples": EXAMPLES // 2},
    # Signed-in routes answer an anonymous caller 401 whatever the input: no boundary cases,
    # fewer drawn ones; the public routes get both in the admin's run as well.
    "phases": {"stateful": {"enabled": False}, "coverage": {"enabled": False}},
}

WEBCHAT = ("/api/webchat/messages",)
"""Routes a web chat visitor calls with the session's token."""


def _embedded(directory: Path) -> Settings:
    """The embedded default in ``directory``, with the tests' limit on anonymous writes (none:
    the fuzz writes as one client, faster than any person)."""
    return settings_for_tests(
        f"sqlite+aiosqlite:///{directory / 'talia.db'}",
        demo_data=True,
        storage={"local_dir": str(directory / "media")},
    )


async def _prepare(settings: Settings) -> None:
    """What ``talia serve`` does first on SQLite: migrate, then seed the demo data."""
    engine = create_database_engine(settings.database.url)
    try:
        await migrations.upgrade(engine)
    finally:
        await engine.dispose()
    await prepare_demo(settings)


_directory = tempfile.TemporaryDirectory(prefix="talia-fuzz-")
_settings = _embedded(Path(_directory.name))
asyncio.run(_prepare(_settings))
app = create_app(build_container(_settings))
# Loading the document starts the app's lifespan, in schemathesis's own event loop.
as_admin, as_anonymous = (
    schemathesis.openapi.from_asgi(
        "/schema/openapi.json", app, config=schemathesis.Config.from_dict(config)
    )
    for config in (ADMIN, ANONYMOUS)
)


@pytest.fixture(scope="module", autouse=True)
def _stop_app() -> Iterator[None]:
    yield
    asgi.shutdown_lifespans()
    _directory.cleanup()


@cache
def _visitor() -> str:
    """A web chat session that said hello and was answered, so its history has both sides."""
    with asgi.get_client(app) as client:
        opened = client.post("/api/webchat/sessions", json={"name": "Fuzz"})
        opened.raise_for_status()
        headers = {"Authorization": f"Bearer {opened.json()['token']}"}
        client.post("/api/webchat/messages", json={"text": "hola"}, headers=headers)
        deadline = time.monotonic() + 30
        while len(client.get("/api/webchat/messages", headers=headers).json()["items"]) < 2:
            assert time.monotonic() < deadline, "the assistant never answered the visitor"
            time.sleep(0.2)
    token: str = opened.json()["token"]
    return token


def _admin() -> str:
    with asgi.get_client(app) as client:
        response = client.post(
            "/api/auth/login", json={"email": DEMO_ADMIN, "password": DEMO_PASSWORD}
        )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def _route(case: schemathesis.Case, context: schemathesis.AuthContext) -> str:
    return "webchat" if context.operation.path in WEBCHAT else "api"


class Anonymous:
    """No token, but a visitor's on the web chat."""

    def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str | None:
        return _visitor() if _route(case, context) == "webchat" else None

    def set(self, case: schemathesis.Case, data: str, context: schemathesis.AuthContext) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


class DemoAdmin(Anonymous):
    """The demo admin's access token; schemathesis signs in again when a request answers 401
    (after the fuzz logged the session out, say)."""

    def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str | None:
        return super().get(case, context) or _admin()


@as_anonymous.auth(Anonymous, cache_by_key=_route)
@as_anonymous.parametrize()
def test_an_anonymous_caller_gets_only_documented_answers(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


@as_admin.auth(DemoAdmin, cache_by_key=_route)
@as_admin.parametrize()
def test_the_admin_gets_only_documented_answers(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
