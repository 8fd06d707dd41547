"""Customers write on every channel; messages are stored once, answered, and seen by agents.

Through the real app on SQLite, PostgreSQL and MariaDB. Outbound channels are fakes injected
through the container (each real sender has its own contract tests against a local server
speaking the provider's format); jobs are run by calling the job runner, as a worker would.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from dependency_injector import providers

from adapters.memory.channels import FakeChannelSender
from entrypoints.container import Container
from talia_core.assistants.definition import Definition
from talia_core.conversations.vocabulary import Channel
from talia_core.identity.model import Role
from tests.api import Api, assert_problem, open_api, settings_for_tests
from tests.channels import (
    CHANNELS,
    CHATWOOT_TOKEN,
    VERIFY_TOKEN,
    meta_signature,
    twilio_inbound,
    twilio_signature,
    whatsapp_status,
    whatsapp_text,
)
from tests.conftest import Engines
from tests.databases import WITH_PGBOUNCER, empty_tables

WEBHOOK = "/api/whatsapp/webhook"


class Channels:
    def __init__(self) -> None:
        self.senders = {channel: FakeChannelSender() for channel in Channel}

    def install(self, container: Container) -> None:
        container.gateways.channel_senders.override(providers.Object(self.senders))


@pytest.fixture(params=WITH_PGBOUNCER)
async def desk(
    request: pytest.FixtureRequest, engines: Engines, tmp_path: Path
) -> AsyncIterator[tuple[Api, Channels]]:
    engine = await engines.get(request.param)
    url = engine.url.render_as_string(hide_password=False)
    channels = Channels()
    settings = settings_for_tests(
        url,
        channels=CHANNELS,
        storage={"local_dir": str(tmp_path / "media")},
        jobs={
            "retry_attempts": 2,
            "retry_base_delay_seconds": 0.001,
            "retry_max_delay_seconds": 0.005,
        },
    )
    async with open_api(settings, prepare=channels.install) as opened:
        await entry_assistant(opened)
        yield opened, channels
    await empty_tables(engine)


async def entry_assistant(api: Api) -> None:
    """The assistant that answers every channel: the offline rules, as ``talia serve``'s."""
    definition = Definition(
        provider="offline",
        model="rules",
        instructions="Atiende a los clientes de la tienda.",
        tools=("handoff_to_human",),
        channels=tuple(channel.value for channel in Channel),
    )
    await api.container.use_cases.assistants().create("recepcion", definition, by="tests")


async def run_jobs(api: Api) -> int:
    runner = api.container.use_cases.job_runner()
    total = 0
    while ran := await runner.run_due(100):
        total += ran
    return total


async def test_a_signed_whatsapp_message_is_stored_answered_and_listed_for_agents(
    desk: tuple[Api, Channels],
) -> None:
    api, channels = desk
    body = whatsapp_text("hola", message_id="wamid.flow.1")

    answer = await api.client.post(WEBHOOK, content=body, headers=meta_signature(body))
    await run_jobs(api)

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": 1, "duplicates": 0, "ignored": []}
    [reply] = channels.senders[Channel.WHATSAPP].sent
    assert reply.to.value == "51987654321"
    assert reply.text
    _, agent = await api.user(Role.AGENT)
    listed = await api.client.get("/api/conversations?channel=whatsapp", headers=agent)
    assert listed.status_code == 200, listed.text
    [conversation] = listed.json()["items"]
    assert (conversation["status"], conversation["unread_count"]) == ("bot", 1)
    messages = await api.client.get(
        f"/api/conversations/{conversation['id']}/messages", headers=agent
    )
    assert [(m["author"], m["status"]) for m in messages.json()["items"]] == [
        ("bot", "sent"),
        ("contact", "received"),
    ]


async def test_eight_concurrent_deliveries_of_one_message_leave_one_row(
    desk: tuple[Api, Channels],
) -> None:
    api, _ = desk
    body = whatsapp_text("hola", message_id="wamid.race")

    answers = await asyncio.gather(
        *(api.client.post(WEBHOOK, content=body, headers=meta_signature(body)) for _ in range(8))
    )
    await run_jobs(api)

    assert [a.status_code for a in answers] == [200] * 8
    assert sum(a.json()["accepted"] for a in answers) == 1
    assert sum(a.json()["duplicates"] for a in answers) == 7
    _, agent = await api.user(Role.AGENT)
    [conversation] = (await api.client.get("/api/conversations", headers=agent)).json()["items"]
    messages = await api.client.get(
        f"/api/conversations/{conversation['id']}/messages", headers=agent
    )
    assert [m["author"] for m in messages.json()["items"]].count("contact") == 1


async def test_unsigned_or_forged_webhooks_are_refused_and_store_nothing(
    desk: tuple[Api, Channels],
) -> None:
    api, _ = desk
    body = whatsapp_text("hola", message_id="wamid.forged")

    unsigned = await api.client.post(WEBHOOK, content=body)
    forged = await api.client.post(WEBHOOK, content=body, headers=meta_signature(body, "wrong"))
    tampered = await api.client.post(
        WEBHOOK, content=body.replace(b"hola", b"hack"), headers=meta_signature(body)
    )

    assert_problem(unsigned, 401)
    assert_problem(forged, 403)
    assert_problem(tampered, 403)
    assert await run_jobs(api) == 0


async def test_a_signed_body_that_is_not_a_notification_is_refused_whole(
    desk: tuple[Api, Channels],
) -> None:
    api, _ = desk
    for body in (b"not json", b'{"object": "page", "entry": []}', b"[1, 2]"):
        answer = await api.client.post(WEBHOOK, content=body, headers=meta_signature(body))
        assert_problem(answer, 400)
    assert await run_jobs(api) == 0


async def test_a_body_over_the_limit_is_refused_with_413(desk: tuple[Api, Channels]) -> None:
    api, _ = desk
    body = b"x" * (api.container.settings().http.max_body_bytes + 1)

    answer = await api.client.post(WEBHOOK, content=body, headers=meta_signature(body))

    assert answer.status_code == 413


async def test_meta_verification_echoes_the_challenge_only_for_the_right_token(
    desk: tuple[Api, Channels],
) -> None:
    api, _ = desk
    query = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}

    good = await api.client.get(WEBHOOK, params={**query, "hub.verify_token": VERIFY_TOKEN})
    bad = await api.client.get(WEBHOOK, params={**query, "hub.verify_token": "nope"})

    assert (good.status_code, good.text) == (200, "1158201444")
    assert_problem(bad, 403)


async def test_statuses_arriving_out_of_order_leave_the_reply_read(
    desk: tuple[Api, Channels],
) -> None:
    api, channels = desk
    body = whatsapp_text("hola", message_id="wamid.status")
    await api.client.post(WEBHOOK, content=body, headers=meta_signature(body))
    await run_jobs(api)
    sender = channels.senders[Channel.WHATSAPP]
    external = sender.ids[sender.sent[0].message_id]

    for status, at in (("read", 2_000_000_000), ("delivered", 1_999_999_999), ("sent", 1)):
        update = whatsapp_status(external, status, at=at)
        answer = await api.client.post(WEBHOOK, content=update, headers=meta_signature(update))
        assert answer.status_code == 200, answer.text
    await run_jobs(api)

    _, agent = await api.user(Role.AGENT)
    [conversation] = (await api.client.get("/api/conversations", headers=agent)).json()["items"]
    messages = await api.client.get(
        f"/api/conversations/{conversation['id']}/messages", headers=agent
    )
    assert messages.json()["items"][0]["status"] == "read"


async def test_a_twilio_message_signed_by_twilios_library_is_accepted(
    desk: tuple[Api, Channels],
) -> None:
    api, channels = desk
    params = twilio_inbound("hola", sid="SM00000000000000000000000000000001")

    answer = await api.client.post(
        "/api/twilio/whatsapp",
        data=params,
        headers=twilio_signature("/api/twilio/whatsapp", params),
    )
    forged = await api.client.post(
        "/api/twilio/whatsapp",
        data={**params, "Body": "otra cosa"},
        headers=twilio_signature("/api/twilio/whatsapp", params),
    )
    await run_jobs(api)

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/xml")
    assert_problem(forged, 403)
    [reply] = channels.senders[Channel.TWILIO].sent
    assert reply.to.value == "whatsapp:+51987654321"


async def test_chatwoot_events_need_the_bots_token(desk: tuple[Api, Channels]) -> None:
    api, channels = desk
    event = {
        "event": "message_created",
        "id": 501,
        "content": "hola",
        "message_type": "incoming",
        "created_at": "2026-01-01T12:00:00.000Z",
        "private": False,
        "sender": {"id": 9, "name": "Luis", "type": "contact"},
        "conversation": {"id": 77, "status": "pending"},
        "account": {"id": 1, "name": "Talia"},
    }

    refused = await api.client.post("/api/chatwoot/webhook?token=wrong", json=event)
    answer = await api.client.post(f"/api/chatwoot/webhook?token={CHATWOOT_TOKEN}", json=event)
    await run_jobs(api)

    assert_problem(refused, 403)
    assert answer.status_code == 200, answer.text
    [reply] = channels.senders[Channel.CHATWOOT].sent
    assert reply.thread == "77"


async def test_an_agent_takes_over_replies_and_hands_back(desk: tuple[Api, Channels]) -> None:
    api, channels = desk
    body = whatsapp_text("hola", message_id="wamid.agent")
    await api.client.post(WEBHOOK, content=body, headers=meta_signature(body))
    await run_jobs(api)
    _, agent = await api.user(Role.AGENT)
    [conversation] = (await api.client.get("/api/conversations", headers=agent)).json()["items"]
    path = f"/api/conversations/{conversation['id']}"

    taken = await api.client.post(f"{path}/handoff", headers=agent)
    replied = await api.client.post(
        f"{path}/messages", json={"text": "Hola, soy Eva"}, headers=agent
    )
    followup = whatsapp_text("gracias", message_id="wamid.agent.2")
    await api.client.post(WEBHOOK, content=followup, headers=meta_signature(followup))
    await run_jobs(api)
    released = await api.client.post(f"{path}/release", headers=agent)
    closed = await api.client.post(f"{path}/close", headers=agent)
    again = await api.client.post(f"{path}/close", headers=agent)

    assert taken.json()["status"] == "human"
    assert replied.status_code == 202, replied.text
    texts = [o.text for o in channels.senders[Channel.WHATSAPP].sent]
    assert texts[-1] == "Hola, soy Eva"
    assert len(texts) == 2  # the bot's first answer and the agent's; none for "gracias"
    assert released.json()["status"] == "bot"
    assert closed.json()["status"] == "closed"
    assert_problem(again, 409)


async def test_customers_cannot_read_conversations(desk: tuple[Api, Channels]) -> None:
    api, _ = desk
    _, customer = await api.user()

    assert_problem(await api.client.get("/api/conversations", headers=customer), 403)
    assert_problem(await api.client.get("/api/conversations"), 401)


async def test_a_dead_reply_is_listed_for_admins_and_retried(desk: tuple[Api, Channels]) -> None:
    api, channels = desk
    sender = channels.senders[Channel.WHATSAPP]
    sender.fail_next(2)  # the policy under test allows two attempts
    body = whatsapp_text("hola", message_id="wamid.dead")
    await api.client.post(WEBHOOK, content=body, headers=meta_signature(body))
    await run_jobs(api)
    await asyncio.sleep(0.01)  # the retry's backoff
    await run_jobs(api)
    _, admin = await api.user(Role.ADMIN)

    dead = await api.client.get("/api/admin/jobs?status=dead", headers=admin)
    [job] = dead.json()["items"]
    retried = await api.client.post(f"/api/admin/jobs/{job['id']}/retry", headers=admin)
    await run_jobs(api)

    assert (job["kind"], job["attempts"]) == ("conversations.deliver", 2)
    assert "unavailable" in job["last_error"].lower()
    assert retried.json()["status"] == "pending"
    assert len(sender.sent) == 1


async def test_dead_replies_are_counted_in_the_metrics_and_retried_together(
    desk: tuple[Api, Channels],
) -> None:
    api, channels = desk
    sender = channels.senders[Channel.WHATSAPP]
    sender.fail_next(4)  # two replies, two attempts each
    for n in range(2):
        body = whatsapp_text("hola", message_id=f"wamid.dead{n}", wa_id=f"5198765432{n}")
        await api.client.post(WEBHOOK, content=body, headers=meta_signature(body))
    await run_jobs(api)
    await asyncio.sleep(0.01)
    await run_jobs(api)
    _, admin = await api.user(Role.ADMIN)
    metrics = (await api.client.get("/metrics")).text

    naive = await api.client.post("/api/admin/jobs/retry?since=2026-01-01T00:00:00", headers=admin)
    other = await api.client.post("/api/admin/jobs/retry?kind=knowledge.ingest", headers=admin)
    retried = await api.client.post(
        "/api/admin/jobs/retry?kind=conversations.deliver&since=2026-01-01T00:00:00Z",
        headers=admin,
    )
    await run_jobs(api)

    assert 'talia_jobs{status="dead"} 2.0' in metrics
    assert_problem(naive, 400)
    assert other.json() == {"retried": 0}
    assert retried.json() == {"retried": 2}
    assert len(sender.sent) == 2


async def test_a_chatwoot_delivery_signed_with_the_bots_secret_is_accepted(
    engines: Engines, tmp_path: Path
) -> None:
    engine = await engines.get("sqlite")
    url = engine.url.render_as_string(hide_password=False)
    channels = Channels()
    secret = "bot-secret"
    settings = settings_for_tests(
        url,
        channels={**CHANNELS, "chatwoot_webhook_secret": secret},
        storage={"local_dir": str(tmp_path / "media")},
    )
    body = json.dumps(
        {
            "event": "conversation_status_changed",
            "id": 77,
            "status": "open",
            "updated_at": 1767268800,
            "meta": {"assignee": {"id": 5, "type": "user"}},
        }
    ).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    signed = {"X-Chatwoot-Timestamp": stamp, "X-Chatwoot-Signature": f"sha256={digest}"}
    async with open_api(settings, prepare=channels.install) as api:
        good = await api.client.post("/api/chatwoot/webhook", content=body, headers=signed)
        token_only = await api.client.post(
            f"/api/chatwoot/webhook?token={CHATWOOT_TOKEN}", content=body
        )
    await empty_tables(engine)

    assert good.status_code == 200, good.text
    assert_problem(token_only, 401)
