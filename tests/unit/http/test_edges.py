"""Answers the router gives itself, stale tokens on public routes, public routes in OpenAPI."""

from __future__ import annotations

from datetime import timedelta

from talia_core.identity.model import Role
from talia_core.shared.clock import FakeClock
from tests.api import PASSWORD, Api, open_api, settings_for_tests

MEMORY = "sqlite+aiosqlite:///:memory:"


async def test_a_404_and_a_405_carry_a_request_id_and_are_counted(api: Api) -> None:
    missing = await api.client.get("/no/such/route")
    wrong_method = await api.client.delete("/health")

    assert missing.headers["x-request-id"] != wrong_method.headers["x-request-id"]
    metrics = (await api.client.get("/metrics")).text
    assert 'talia_http_requests_total{method="GET",route="(unrouted)",status="404"} 1.0' in metrics
    assert 'route="(unrouted)",status="405"} 1.0' in metrics


async def test_a_stale_token_does_not_stop_a_public_route(api: Api) -> None:
    _, headers = await api.user(Role.CUSTOMER)
    me = (await api.client.get("/api/auth/me", headers=headers)).json()
    stale = {"Authorization": "Bearer not-a-token"}

    login = await api.client.post(
        "/api/auth/login", json={"email": me["email"], "password": PASSWORD}, headers=stale
    )

    assert login.status_code == 200


async def test_an_expired_token_on_a_protected_route_says_it_expired() -> None:
    clock = FakeClock()
    async with open_api(settings_for_tests(MEMORY), in_memory=True, clock=clock) as api:
        _, headers = await api.user(Role.CUSTOMER)
        clock.advance(timedelta(hours=1))

        refused = await api.client.get("/api/auth/me", headers=headers)

    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]


async def test_public_routes_are_documented_as_needing_no_token(api: Api) -> None:
    paths = (await api.client.get("/schema/openapi.json")).json()["paths"]

    assert paths["/api/claims"]["post"]["security"] == [{}]
    assert paths["/api/auth/login"]["post"]["security"] == [{}]
    assert "security" not in paths["/api/claims"]["get"]  # the document's bearer default
