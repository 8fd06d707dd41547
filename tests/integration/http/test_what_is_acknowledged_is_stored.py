"""What a webhook acknowledges is stored, on SQLite, PostgreSQL and MariaDB: text holding
NUL characters or unpaired surrogates, ids too long for their columns, a message of any
length. The web chat, whose visitor reads the answer, refuses what it would have to
change. Statuses arriving in any order, or at once, never take a read reply back to failed.

Through the real app (``desk``: fake outbound channels, jobs run as a worker would); each
test runs the jobs to the end and finds none dead.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from talia_core.conversations.events import StatusUpdate
from talia_core.conversations.vocabulary import Channel, DeliveryStatus
from talia_core.identity.model import Role
from talia_core.shared.jobs import JobStatus
from tests.api import Api, assert_problem
from tests.channels import (
    CHATWOOT_TOKEN,
    meta_signature,
    twilio_inbound,
    twilio_signature,
    whatsapp_media,
    whatsapp_status,
    whatsapp_text,
)
from tests.integration.http import test_conversation_flow as flow
from tests.integration.http.test_conversation_flow import WEBHOOK, Channels, run_jobs

desk = flow.desk  # the app on every database, with fake outbound channels

Desk = tuple[Api, Channels]


async def _settled(api: Api) -> None:
    """Every job run to its end: none left to retry, none dead."""
    await run_jobs(api)
    await asyncio.sleep(0.01)  # past any retry's backoff
    await run_jobs(api)
    counts = await api.container.use_cases.job_runner().counts()
    assert counts.get(JobStatus.DEAD, 0) == 0
    assert counts.get(JobStatus.PENDING, 0) == 0


async def _stored(api: Api) -> list[dict[str, Any]]:
    """Once every job ran to its end: the messages customers sent, as agents see them."""
    await _settled(api)
    _, agent = await api.user(Role.AGENT)
    conversations = await api.client.get("/api/conversations", headers=agent)
    found = []
    for conversation in conversations.json()["items"]:
        path = f"/api/conversations/{conversation['id']}/messages?limit=100"
        messages = (await api.client.get(path, headers=agent)).json()["items"]
        found.extend(m for m in messages if m["author"] == "contact")
    return found


async def _whatsapp(api: Api, body: bytes) -> dict[str, Any]:
    answer = await api.client.post(WEBHOOK, content=body, headers=meta_signature(body))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_a_signed_whatsapp_text_with_nul_is_stored_without_it(desk: Desk) -> None:
    api, channels = desk

    await _whatsapp(api, whatsapp_text("a\x00b", message_id="wamid.nul", name="A\x00na"))

    [message] = await _stored(api)
    assert message["text"] == "ab"
    assert channels.senders[Channel.WHATSAPP].sent


async def test_a_whatsapp_text_with_an_unpaired_surrogate_is_stored_with_a_replacement(
    desk: Desk,
) -> None:
    api, _ = desk
    body = whatsapp_text("hola \ud800", message_id="wamid.surrogate")
    assert b"\\ud800" in body

    await _whatsapp(api, body)

    [message] = await _stored(api)
    assert message["text"] == "hola \ufffd"


async def test_a_twilio_text_with_nul_is_stored_without_it(desk: Desk) -> None:
    api, _ = desk
    params = twilio_inbound("hola\x00", sid="SM" + "0" * 31 + "9")

    answer = await api.client.post(
        "/api/twilio/whatsapp",
        data=params,
        headers=twilio_signature("/api/twilio/whatsapp", params),
    )

    assert answer.status_code == 200, answer.text
    [message] = await _stored(api)
    assert message["text"] == "hola"


async def test_a_chatwoot_message_with_nul_from_a_contact_so_named_is_stored(desk: Desk) -> None:
    api, _ = desk
    event = {
        "event": "message_created",
        "id": 901,
        "content": "ho\x00la",
        "message_type": "incoming",
        "created_at": "2026-01-01T12:00:00.000Z",
        "private": False,
        "sender": {"id": 9, "name": "Lu\x00is", "type": "contact", "phone_number": "9" * 80},
        "conversation": {"id": 77, "status": "pending"},
    }

    answer = await api.client.post(f"/api/chatwoot/webhook?token={CHATWOOT_TOKEN}", json=event)

    assert answer.status_code == 200, answer.text
    [message] = await _stored(api)
    assert message["text"] == "hola"


async def test_a_document_whose_media_id_cannot_be_stored_is_kept_without_it(desk: Desk) -> None:
    api, _ = desk
    body = whatsapp_media(
        "document",
        "9" * 3000,
        "application/pdf",
        message_id="wamid.long-media",
        content=b"%PDF-1.7",
        caption="mi factura",
    )

    await _whatsapp(api, body)

    [message] = await _stored(api)
    assert (message["type"], message["raw_type"], message["media"]) == (
        "unsupported",
        "document",
        None,
    )
    assert message["text"] == "mi factura"


async def test_a_message_id_too_long_to_store_is_stored_once(desk: Desk) -> None:
    api, _ = desk
    body = whatsapp_text("hola", message_id="wamid." + "x" * 3000)

    first = await _whatsapp(api, body)
    again = await _whatsapp(api, body)

    assert (first["accepted"], again["duplicates"]) == (1, 1)
    [message] = await _stored(api)
    assert message["text"] == "hola"


async def test_a_long_text_is_stored_whole(desk: Desk) -> None:
    api, _ = desk
    ten_thousand = "palabra " * 1249 + "final..."
    over_64_kib = "ñandú " * 14_000  # 112 000 bytes in UTF-8, past TEXT on MariaDB

    await _whatsapp(api, whatsapp_text(ten_thousand, message_id="wamid.long-1"))
    await _whatsapp(api, whatsapp_text(over_64_kib, message_id="wamid.long-2", wa_id="5190"))

    texts = sorted(len(m["text"]) for m in await _stored(api))
    assert texts == [10_000, len(over_64_kib.strip())]


async def test_the_web_chat_refuses_what_it_would_have_to_change_saying_why(desk: Desk) -> None:
    api, _ = desk
    token = (await api.client.post("/api/webchat/sessions", json={})).json()["token"]
    visitor = {"Authorization": f"Bearer {token}"}

    nul = await api.client.post("/api/webchat/messages", json={"text": "a\x00b"}, headers=visitor)
    long = await api.client.post(
        "/api/webchat/messages", json={"text": "a" * 10_000}, headers=visitor
    )
    surrogate = await api.client.post(
        "/api/webchat/messages",
        content=b'{"text": "a\\ud800"}',
        headers={**visitor, "Content-Type": "application/json"},
    )

    assert "NUL" in json.dumps(assert_problem(nul, 400, "text")["errors"])
    assert "4096" in json.dumps(assert_problem(long, 400, "text")["errors"])
    assert_problem(surrogate, 400)
    assert await _stored(api) == []


async def _answered(api: Api, channels: Channels) -> str:
    """A customer wrote and the assistant answered: the provider's id of the answer."""
    await _whatsapp(api, whatsapp_text("hola", message_id="wamid.answered"))
    await run_jobs(api)
    sender = channels.senders[Channel.WHATSAPP]
    return sender.ids[sender.sent[0].message_id]


async def _reply(api: Api) -> dict[str, Any]:
    """The assistant's answer, as agents see it."""
    _, agent = await api.user(Role.AGENT)
    [conversation] = (await api.client.get("/api/conversations", headers=agent)).json()["items"]
    messages = await api.client.get(
        f"/api/conversations/{conversation['id']}/messages", headers=agent
    )
    [reply] = [m for m in messages.json()["items"] if m["author"] == "bot"]
    return dict(reply)


async def test_a_failure_reported_after_the_read_leaves_the_reply_read(desk: Desk) -> None:
    api, channels = desk
    external = await _answered(api, channels)

    await _whatsapp(api, whatsapp_status(external, "read", at=2_000_000_000))
    await run_jobs(api)
    await _whatsapp(api, whatsapp_status(external, "failed", at=2_000_000_100))
    await _settled(api)

    reply = await _reply(api)
    assert (reply["status"], reply["error_code"]) == ("read", None)


async def test_statuses_applied_at_once_end_at_the_furthest(desk: Desk) -> None:
    api, channels = desk
    external = await _answered(api, channels)
    pipeline = api.container.use_cases.pipeline()
    at = datetime.now(UTC)
    reports = [DeliveryStatus.FAILED, DeliveryStatus.READ, DeliveryStatus.DELIVERED] * 4

    await asyncio.gather(
        *(
            pipeline.record_status(StatusUpdate(Channel.WHATSAPP, external, status, at, "1"))
            for status in reports
        )
    )

    reply = await _reply(api)
    assert (reply["status"], reply["error_code"]) == ("read", None)
