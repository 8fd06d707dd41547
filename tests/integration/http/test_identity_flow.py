"""The identity flows that matter end to end, on SQLite, PostgreSQL and MariaDB.

The exhaustive bad-input matrix lives in tests/unit/http/test_identity_routes.py; here
each flow runs once per real database, with a fake clock so expiry can be reached.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from talia_core.identity.model import Role
from talia_core.shared.clock import FakeClock
from tests.api import PASSWORD, Api, open_api, settings_for_tests
from tests.conftest import Engines
from tests.databases import WITH_PGBOUNCER, empty_tables


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=WITH_PGBOUNCER)
async def api(
    request: pytest.FixtureRequest, engines: Engines, clock: FakeClock
) -> AsyncIterator[Api]:
    engine = await engines.get(request.param)
    url = engine.url.render_as_string(hide_password=False)
    async with open_api(settings_for_tests(url), clock=clock) as opened:
        yield opened
    await empty_tables(engine)


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def log_in(api: Api, email: str) -> dict[str, Any]:
    response = await api.client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def refresh(api: Api, tokens: dict[str, Any]) -> httpx.Response:
    return await api.client.post(
        "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )


async def status_of_me(api: Api, tokens: dict[str, Any]) -> int:
    return (await api.client.get("/api/auth/me", headers=bearer(tokens))).status_code


async def audit_actions(api: Api, admin: dict[str, str], **filters: str) -> list[set[str]]:
    """The audited actions, newest instant first; one instant's events have no order."""
    response = await api.client.get("/api/admin/audit", params=filters, headers=admin)
    assert response.status_code == 200, response.text
    groups: list[tuple[str, set[str]]] = []
    for event in response.json()["items"]:
        if not groups or groups[-1][0] != event["occurred_at"]:
            groups.append((event["occurred_at"], set()))
        groups[-1][1].add(event["action"])
    return [actions for _, actions in groups]


async def test_a_customer_registers_signs_in_rotates_tokens_and_signs_out(api: Api) -> None:
    registered = await api.client.post(
        "/api/auth/register",
        json={"email": "Nora@Example.com", "password": PASSWORD, "name": "Nora"},
    )
    assert registered.status_code == 202, registered.text

    tokens = await log_in(api, "nora@example.com")
    me = await api.client.get("/api/auth/me", headers=bearer(tokens))
    assert me.json()["id"] == tokens["user"]["id"]

    rotated_response = await refresh(api, tokens)
    assert rotated_response.status_code == 200, rotated_response.text
    rotated = rotated_response.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert await status_of_me(api, rotated) == 200
    sessions = await api.client.get("/api/auth/sessions", headers=bearer(rotated))
    [session] = sessions.json()["items"]
    assert session["current"] is True

    logged_out = await api.client.post("/api/auth/logout", headers=bearer(rotated))
    assert logged_out.status_code == 204, logged_out.text
    assert await status_of_me(api, rotated) == 401
    assert await status_of_me(api, tokens) == 401
    assert (await refresh(api, rotated)).status_code == 401


async def test_a_replayed_refresh_token_revokes_its_family_and_is_audited(
    api: Api, clock: FakeClock
) -> None:
    _, admin = await api.user(Role.ADMIN)
    customer_id, _ = await api.user(Role.CUSTOMER)
    email = (await api.client.get(f"/api/admin/users/{customer_id}", headers=admin)).json()["email"]
    stolen = await log_in(api, email)
    elsewhere = await log_in(api, email)
    rotated = (await refresh(api, stolen)).json()
    clock.advance(timedelta(seconds=31))  # past the grace a retried refresh is given

    replayed = await refresh(api, stolen)

    assert replayed.status_code == 401, replayed.text
    assert replayed.headers["content-type"].startswith("application/problem+json")
    assert await status_of_me(api, rotated) == 401
    assert (await refresh(api, rotated)).status_code == 401
    assert await status_of_me(api, elsewhere) == 200
    assert await audit_actions(api, admin, action="auth.refresh_token_reused") == [
        {"auth.refresh_token_reused"}
    ]


async def test_concurrent_refreshes_of_one_token_all_get_its_one_successor(api: Api) -> None:
    await api.user(Role.CUSTOMER)
    _, customer = await api.user(Role.CUSTOMER)
    me = await api.client.get("/api/auth/me", headers=customer)
    tokens = await log_in(api, me.json()["email"])

    answers = await asyncio.gather(*(refresh(api, tokens) for _ in range(5)))

    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
    assert len({answer.json()["refresh_token"] for answer in answers}) == 1
    for answer in answers:
        assert await status_of_me(api, answer.json()) == 200
    assert (await refresh(api, answers[0].json())).status_code == 200


async def test_an_admin_creates_an_agent_promotes_and_deactivates_them(
    api: Api, clock: FakeClock
) -> None:
    admin_id, admin = await api.user(Role.ADMIN)
    clock.advance(timedelta(seconds=1))
    created = await api.client.post(
        "/api/admin/users",
        json={"email": "alex@example.com", "password": PASSWORD, "name": "Alex", "role": "agent"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    agent_id = created.json()["id"]
    agent = await log_in(api, "alex@example.com")
    assert (await api.client.get("/api/admin/users", headers=bearer(agent))).status_code == 403

    clock.advance(timedelta(seconds=1))
    promoted = await api.client.patch(
        f"/api/admin/users/{agent_id}", json={"role": "admin"}, headers=admin
    )
    assert promoted.json()["role"] == "admin"
    assert (await api.client.get("/api/admin/users", headers=bearer(agent))).status_code == 200

    clock.advance(timedelta(seconds=1))
    deactivated = await api.client.patch(
        f"/api/admin/users/{agent_id}", json={"active": False}, headers=admin
    )
    assert deactivated.json()["active"] is False
    assert await status_of_me(api, agent) == 401
    refused = await api.client.post(
        "/api/auth/login", json={"email": "alex@example.com", "password": PASSWORD}
    )
    assert refused.status_code == 401

    mine = await audit_actions(api, admin, actor_id=admin_id)
    assert mine == [
        {"admin.write", "user.updated"},
        {"admin.write", "user.role_changed"},
        {"admin.write", "user.created"},
        {"auth.login"},
    ]
    events = (await api.client.get("/api/admin/audit", headers=admin)).json()["items"]
    assert {event["ip"] for event in events if event["actor_id"] == admin_id} == {"127.0.0.1"}


async def test_the_last_admin_cannot_be_demoted_but_an_admin_may_step_down_beside_another(
    api: Api,
) -> None:
    admin_id, admin = await api.user(Role.ADMIN)

    alone = await api.client.patch(
        f"/api/admin/users/{admin_id}", json={"role": "agent"}, headers=admin
    )
    assert alone.status_code == 409, alone.text

    await api.user(Role.ADMIN)
    beside = await api.client.patch(
        f"/api/admin/users/{admin_id}", json={"role": "agent"}, headers=admin
    )
    assert beside.status_code == 200, beside.text


async def test_deleting_a_user_ends_their_sessions_but_keeps_the_record(api: Api) -> None:
    _, admin = await api.user(Role.ADMIN)
    customer_id, customer = await api.user(Role.CUSTOMER)

    deleted = await api.client.delete(f"/api/admin/users/{customer_id}", headers=admin)

    assert deleted.status_code == 204, deleted.text
    assert (await api.client.get("/api/auth/me", headers=customer)).status_code == 401
    kept = await api.client.get(f"/api/admin/users/{customer_id}", headers=admin)
    assert kept.json()["active"] is False


async def test_tokens_and_sessions_expire_on_the_database_clock(api: Api, clock: FakeClock) -> None:
    _, customer = await api.user(Role.CUSTOMER)
    me = await api.client.get("/api/auth/me", headers=customer)
    tokens = await log_in(api, me.json()["email"])

    clock.advance(timedelta(minutes=16))
    assert await status_of_me(api, tokens) == 401
    renewed = await refresh(api, tokens)
    assert renewed.status_code == 200, renewed.text

    clock.advance(timedelta(days=8))
    assert (await refresh(api, renewed.json())).status_code == 401

    clock.advance(timedelta(days=30))
    fresh = await log_in(api, me.json()["email"])
    sessions = await api.client.get("/api/auth/sessions", headers=bearer(fresh))
    assert [s["current"] for s in sessions.json()["items"]] == [True]


NUL_INPUTS = [
    pytest.param(
        "POST",
        "/api/auth/register",
        {"json": {"email": "nul@example.com", "password": PASSWORD, "name": "A\x00B"}},
        422,
        id="name",
    ),
    pytest.param("PATCH", "/api/admin/users/{user}", {"json": {"name": "A\x00"}}, 422, id="rename"),
    pytest.param(
        "POST",
        "/api/auth/token",
        {"data": {"username": "a\x00@example.com", "password": PASSWORD}},
        400,
        id="username",
    ),
    pytest.param("GET", "/api/admin/users", {"params": {"q": "a\x00"}}, 400, id="user-search"),
    pytest.param("GET", "/api/admin/audit", {"params": {"action": "a\x00"}}, 400, id="action"),
    pytest.param("GET", "/api/admin/audit", {"params": {"actor_id": "\x00"}}, 400, id="actor"),
    pytest.param("GET", "/api/admin/users/a%00b", {}, 400, id="user-id"),
    pytest.param("DELETE", "/api/auth/sessions/a%00b", {}, 400, id="session-id"),
]


@pytest.mark.parametrize(("method", "path", "request_args", "status"), NUL_INPUTS)
async def test_a_nul_character_in_any_identity_input_is_refused_not_a_server_error(
    api: Api, method: str, path: str, request_args: dict[str, Any], status: int
) -> None:
    """PostgreSQL cannot store or even compare NUL; every database answers the same."""
    user_id, admin = await api.user(Role.ADMIN)
    before = (await api.client.get("/api/admin/users", headers=admin)).json()

    response = await api.client.request(
        method, path.format(user=user_id), headers=admin, **request_args
    )

    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await api.client.get("/api/admin/users", headers=admin)).json() == before


async def test_control_characters_are_dropped_from_the_recorded_user_agent(api: Api) -> None:
    _, admin = await api.user(Role.ADMIN)
    customer_id, _ = await api.user(Role.CUSTOMER)
    email = (await api.client.get(f"/api/admin/users/{customer_id}", headers=admin)).json()["email"]

    response = await api.client.post(
        "/api/auth/login",
        json={"email": email, "password": PASSWORD},
        headers={"User-Agent": "agent\x00/1\x07"},
    )

    assert response.status_code == 200, response.text
    audit = await api.client.get(
        "/api/admin/audit", params={"actor_id": customer_id, "action": "auth.login"}, headers=admin
    )
    recorded = {event["user_agent"] for event in audit.json()["items"]}
    assert "agent/1" in recorded, audit.text
