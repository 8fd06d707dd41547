"""Every JSON route reads its body the same way: declared as JSON, nested within reason."""

from __future__ import annotations

import json

import pytest

from talia_core.identity.model import Role
from tests.api import Api, assert_problem

JSON_ROUTES = ["/api/auth/login", "/api/webchat/sessions", "/api/contact-messages"]
CONTACT = {"name": "Ana", "email": "ana@example.com", "body": "¿Tienen invitaciones?"}


@pytest.mark.parametrize("path", JSON_ROUTES)
@pytest.mark.parametrize("body", [b"[" * 1000 + b"]" * 1000, b'{"a":' * 1000 + b"1" + b"}" * 1000])
async def test_json_nested_a_thousand_levels_deep_is_a_bad_request(
    api: Api, path: str, body: bytes
) -> None:
    response = await api.client.post(
        path, content=body, headers={"content-type": "application/json"}
    )
    problem = assert_problem(response, 400)
    assert "nested too deeply" in problem["detail"]


@pytest.mark.parametrize("content_type", ["text/plain", None, "application/jsonx"])
async def test_a_json_body_not_declared_as_json_is_refused_and_nothing_is_stored(
    api: Api, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await api.client.post(
        "/api/contact-messages", content=json.dumps(CONTACT).encode(), headers=headers
    )
    assert_problem(response, 415)
    assert await stored_contact_messages(api) == 0


async def test_a_json_body_with_its_charset_is_taken(api: Api) -> None:
    response = await api.client.post(
        "/api/contact-messages",
        content=json.dumps(CONTACT).encode(),
        headers={"content-type": "Application/JSON; charset=utf-8"},
    )
    assert response.status_code == 201, response.text
    assert await stored_contact_messages(api) == 1


async def stored_contact_messages(api: Api) -> int:
    _, admin = await api.user(Role.ADMIN)
    listed = await api.client.get("/api/contact-messages", headers=admin)
    assert listed.status_code == 200, listed.text
    return len(listed.json()["items"])
