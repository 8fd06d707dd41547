"""Verifying an address and resetting a password over HTTP, with the links the app mails."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from talia_core.shared.email import EmailMessage
from tests.api import PASSWORD, Api, assert_problem, open_api, settings_for_tests

EMAIL = "nora@example.com"
NEW_PASSWORD = "brand new pass 7"
_TOKEN = re.compile(r"[?&]token=([A-Za-z0-9_-]+)")


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    settings = settings_for_tests(
        "sqlite+aiosqlite:///:memory:", http={"public_writes_per_minute": 3}
    )
    async with open_api(settings, in_memory=True) as opened:
        yield opened


def token_in(message: EmailMessage) -> str:
    [token] = _TOKEN.findall(message.text)
    return str(token)


async def register(api: Api, email: str = EMAIL) -> None:
    response = await api.client.post(
        "/api/auth/register", json={"email": email, "password": PASSWORD, "name": "Nora"}
    )
    assert response.status_code == 202, response.text


async def log_in(api: Api, password: str = PASSWORD) -> dict[str, Any]:
    response = await api.client.post("/api/auth/login", json={"email": EMAIL, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_registering_mails_a_link_from_a_job_that_verifies_the_address_once(
    api: Api,
) -> None:
    await register(api)
    assert api.mail.sent == []  # the request only committed the job

    [message] = await api.mail_to(EMAIL)
    verified = await api.client.post("/api/auth/verify", json={"token": token_in(message)})
    again = await api.client.post("/api/auth/verify", json={"token": token_in(message)})

    assert verified.status_code == 200, verified.text
    assert (verified.json()["email"], verified.json()["email_verified"]) == (EMAIL, True)
    assert_problem(again, 422, "token")
    me = await api.client.get("/api/auth/me", headers=bearer(await log_in(api)))
    assert me.json()["email_verified"] is True


async def test_a_signed_in_unverified_user_may_ask_for_another_link(api: Api) -> None:
    await register(api)
    await api.mail_to(EMAIL)
    tokens = await log_in(api)

    response = await api.client.post("/api/auth/verify/resend", headers=bearer(tokens))

    assert response.status_code == 202, response.text
    assert len(await api.mail_to(EMAIL)) == 1  # the registration's link, within the minute


async def test_forgetting_a_password_answers_byte_for_byte_alike_for_any_address(
    api: Api,
) -> None:
    await register(api)
    await api.mail_to(EMAIL)

    known = await api.client.post("/api/auth/password/forgot", json={"email": EMAIL})
    unknown = await api.client.post("/api/auth/password/forgot", json={"email": "x@example.com"})

    assert known.status_code == 202, known.text
    assert (unknown.status_code, unknown.content) == (known.status_code, known.content)
    [_, reset] = await api.mail_to(EMAIL)
    assert "reset-password" in reset.text
    assert await api.mail_to("x@example.com") == []


async def test_a_reset_sets_the_password_and_ends_every_session_once(api: Api) -> None:
    await register(api)
    tokens = await log_in(api)
    await api.client.post("/api/auth/password/forgot", json={"email": EMAIL})
    [_, message] = await api.mail_to(EMAIL)
    body = {"token": token_in(message), "password": NEW_PASSWORD}

    reset = await api.client.post("/api/auth/password/reset", json=body)
    again = await api.client.post(
        "/api/auth/password/reset", json={**body, "password": "third pass 99"}
    )

    assert reset.status_code == 204, reset.text
    assert_problem(again, 422, "token")
    assert_problem(await api.client.get("/api/auth/me", headers=bearer(tokens)), 401)
    refreshed = await api.client.post(
        "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert_problem(refreshed, 401)
    await log_in(api, NEW_PASSWORD)


async def test_a_common_password_is_refused_naming_it_and_the_link_still_works(
    api: Api,
) -> None:
    await register(api)
    await api.client.post("/api/auth/password/forgot", json={"email": EMAIL})
    [_, message] = await api.mail_to(EMAIL)
    token = token_in(message)

    common = await api.client.post(
        "/api/auth/password/reset", json={"token": token, "password": "Password1234"}
    )
    good = await api.client.post(
        "/api/auth/password/reset", json={"token": token, "password": NEW_PASSWORD}
    )

    assert_problem(common, 422, "password")
    assert good.status_code == 204, good.text


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/auth/verify", {}, "token"),
        ("/api/auth/verify", {"token": "x" * 101}, "token"),
        ("/api/auth/verify", {"token": "a\x00b"}, "token"),
        ("/api/auth/password/forgot", {"email": "not an address"}, "email"),
        ("/api/auth/password/reset", {"token": "abc"}, "password"),
        ("/api/auth/password/reset", {"token": "abc", "password": "x" * 129}, "password"),
    ],
)
async def test_a_malformed_body_is_refused_naming_the_field(
    api: Api, path: str, body: dict[str, Any], field: str
) -> None:
    response = await api.client.post(path, json=body)

    assert_problem(response, 400, field)


async def test_an_unknown_token_is_refused_naming_it(api: Api) -> None:
    response = await api.client.post(
        "/api/auth/password/reset", json={"token": "made-up", "password": NEW_PASSWORD}
    )

    assert_problem(response, 422, "token")


async def test_the_forgotten_password_form_is_limited_like_every_public_write(api: Api) -> None:
    answers = [
        await api.client.post("/api/auth/password/forgot", json={"email": EMAIL}) for _ in range(4)
    ]

    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert "retry-after" in answers[-1].headers


async def test_the_routes_are_in_the_openapi_document(api: Api) -> None:
    paths = (await api.client.get("/schema/openapi.json")).json()["paths"]

    assert "202" in paths["/api/auth/register"]["post"]["responses"]
    for path in ("/verify", "/verify/resend", "/password/forgot", "/password/reset"):
        assert "post" in paths[f"/api/auth{path}"]
