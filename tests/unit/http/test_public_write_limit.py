"""Anonymous writes are limited per client and route; providers' callbacks never are."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from talia_core.identity.model import Role
from tests.api import Api, assert_problem, open_api, settings_for_tests
from tests.channels import WHATSAPP_SECRET, meta_signature, whatsapp_text

CONTACT = {"name": "Ana", "email": "ana@example.com", "body": "¿Hacen envíos a Cusco?"}


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    settings = settings_for_tests(
        "sqlite+aiosqlite:///:memory:",
        http={"public_writes_per_minute": 5},
        channels={"whatsapp_app_secret": WHATSAPP_SECRET},
    )
    async with open_api(settings, in_memory=True) as opened:
        yield opened


async def test_past_the_limit_a_public_write_is_refused_with_a_retry_after_and_not_stored(
    api: Api,
) -> None:
    answers = [await api.client.post("/api/contact-messages", json=CONTACT) for _ in range(7)]

    assert [a.status_code for a in answers] == [201] * 5 + [429] * 2
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
    assert_problem(answers[-1], 429)
    _, admin = await api.user(Role.ADMIN)
    listed = await api.client.get("/api/contact-messages", headers=admin)
    assert len(listed.json()["items"]) == 5


async def test_each_public_route_and_each_client_counts_apart(api: Api) -> None:
    for _ in range(5):
        await api.client.post("/api/contact-messages", json=CONTACT)

    session = await api.client.post("/api/webchat/sessions")
    forwarded = await api.client.post(
        "/api/contact-messages", json=CONTACT, headers={"authorization": "Bearer other-client"}
    )

    assert session.status_code == 201, session.text
    assert forwarded.status_code == 201, forwarded.text


async def test_signed_provider_webhooks_are_never_limited(api: Api) -> None:
    answers = []
    for n in range(8):
        body = whatsapp_text("hola", message_id=f"wamid.limit{n}")
        headers = meta_signature(body)
        answers.append(
            await api.client.post("/api/whatsapp/webhook", content=body, headers=headers)
        )

    assert [a.status_code for a in answers] == [200] * 8
