"""Chatwoot as the agents' desk, against a local server speaking its application API: the
desk contract, and what goes over the wire (labels read before they are replaced, notes
private, errors read as Chatwoot renders them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial

import httpx
import pytest

from adapters.channels.chatwoot.desk import ChatwootAgentsDesk, ChatwootConversationApi
from adapters.memory.database import InMemoryDatabase
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from talia_core.conversations.contacts import Contact
from talia_core.conversations.conversation import Conversation
from talia_core.conversations.desk import AgentDesk
from talia_core.conversations.errors import DeliveryRefused
from talia_core.conversations.vocabulary import Channel, ChannelIdentity, IdentityKind
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import ExternalServiceUnavailable
from tests.contracts.leads.agents_desk import NOTE, AgentsDeskContract
from tests.fakeserver import Reply
from tests.integration.channels.chatwoot_server import FakeChatwoot, chatwoot_error

ACCOUNT_ID = 7
TOKEN = "bot-token-" + "y" * 22
T0 = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)


@pytest.fixture
async def chatwoot() -> AsyncIterator[FakeChatwoot]:
    server = FakeChatwoot(ACCOUNT_ID, TOKEN)
    await server.start()
    yield server
    await server.close()


class ChatwootDeskHarness:
    """Chatwoot's API at the local server, and Talia's conversations in memory: a
    contact's Chatwoot conversation is one Talia stored from the bot's webhook."""

    def __init__(self, client: httpx.AsyncClient, server: FakeChatwoot) -> None:
        self._server = server
        self._database = InMemoryDatabase()
        self._numbers = iter(range(40, 1000))
        self.threads: dict[str, int] = {}
        conversations = AgentDesk(partial(InMemoryUnitOfWork, self._database), FakeClock(T0))
        api = ChatwootConversationApi(
            client, base_url=server.base_url, account_id=ACCOUNT_ID, api_access_token=TOKEN
        )
        self.desk = ChatwootAgentsDesk(api, conversations)

    async def open_conversation(self, contact_id: str, labels: list[str]) -> None:
        number = next(self._numbers)
        self._server.start_conversation(number).labels.extend(labels)
        self.threads[contact_id] = number
        identity = ChannelIdentity(IdentityKind.CHATWOOT_CONTACT, str(number))
        async with InMemoryUnitOfWork(self._database) as uow:
            await uow.contacts.add(Contact("Luis", [identity], T0, T0, id=contact_id))
            await uow.conversations.add(
                Conversation.start(contact_id, Channel.CHATWOOT, str(number), T0)
            )
            await uow.commit()

    def labels(self, contact_id: str) -> list[str]:
        return self._server.conversations[self.threads[contact_id]].labels

    def notes(self, contact_id: str) -> list[str]:
        messages = self._server.conversations[self.threads[contact_id]].messages
        return [m["content"] for m in messages if m["private"]]


@pytest.fixture
def harness(client: httpx.AsyncClient, chatwoot: FakeChatwoot) -> ChatwootDeskHarness:
    return ChatwootDeskHarness(client, chatwoot)


class ChatwootAgentsDeskTests(AgentsDeskContract):
    pass


async def test_a_label_is_read_then_the_whole_list_is_written_back_with_the_token(
    harness: ChatwootDeskHarness, chatwoot: FakeChatwoot
) -> None:
    await harness.open_conversation("contact-1", ["vip"])

    await harness.desk.label("contact-1", "lead-calificado")

    path = chatwoot.conversation_path(40, "labels")
    assert [(r.method, r.path) for r in chatwoot.requests] == [("GET", path), ("POST", path)]
    assert chatwoot.requests[1].json() == {"labels": ["vip", "lead-calificado"]}
    assert {r.headers.get("api_access_token") for r in chatwoot.requests} == {TOKEN}


async def test_a_note_goes_as_a_private_outgoing_message(
    harness: ChatwootDeskHarness, chatwoot: FakeChatwoot
) -> None:
    await harness.open_conversation("contact-1", [])

    await harness.desk.note("contact-1", NOTE)

    [request] = chatwoot.requests
    assert request.path == chatwoot.conversation_path(40, "messages")
    assert request.json() == {"content": NOTE, "message_type": "outgoing", "private": True}


async def test_a_conversation_chatwoot_no_longer_has_is_refused_and_a_bad_token_waits(
    harness: ChatwootDeskHarness, chatwoot: FakeChatwoot
) -> None:
    await harness.open_conversation("contact-1", [])
    del chatwoot.conversations[40]

    with pytest.raises(DeliveryRefused):
        await harness.desk.note("contact-1", NOTE)
    chatwoot.answer_next(Reply(401, chatwoot_error("Invalid Access Token")))
    with pytest.raises(ExternalServiceUnavailable):
        await harness.desk.label("contact-1", "lead-calificado")


async def test_an_unconfigured_chatwoot_fails_as_unavailable_before_any_request(
    client: httpx.AsyncClient, chatwoot: FakeChatwoot
) -> None:
    api = ChatwootConversationApi(client, base_url="", account_id=ACCOUNT_ID, api_access_token="")

    with pytest.raises(ExternalServiceUnavailable):
        await api.labels("40")
    assert chatwoot.requests == []
