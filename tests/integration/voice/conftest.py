"""The app served on a loopback port for simulated calls: the speech recogniser is the fake
(it hears the scripted words), the assistant a scripted one, the voice activity detector
and the audio converter are the real ones, Twilio's call-update API a local server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import attrs
import pytest
from dependency_injector import providers

from adapters.memory.speech import FakeSpeechToText, FakeTextToSpeech
from entrypoints.container import Container, build_container
from entrypoints.http.app import create_app
from talia_core.conversations.messages import Message
from talia_core.conversations.ports import (
    HAND_OFF,
    AssistantReply,
    AssistantTurn,
    Drafting,
    ToolCall,
)
from talia_core.conversations.vocabulary import Channel
from talia_core.shared.speech import TextToSpeech
from tests.api import settings_for_tests
from tests.channels import CHANNELS
from tests.conftest import Engines
from tests.databases import empty_tables
from tests.integration.http.conftest import database_url  # noqa: F401  (every database)
from tests.integration.voice.caller import TwilioCaller, answered_call, served
from tests.integration.voice.calls_server import FakeTwilioCalls

GREETING = "Hola, gracias por llamar."
PRICES = (
    "Tenemos tres planes para su boda.",
    "El básico cuesta cien soles e incluye la invitación digital.",
    "El premium cuesta trescientos soles e incluye las fotos y la música.",
)
HOURS = "Atendemos de lunes a sábado."
PUT_THROUGH = "Le comunico con una persona."
DESK = "+5114567890"
ACCOUNT_SID = CHANNELS["twilio_account_sid"]


class PhoneAssistant:
    """Answers what it heard: the prices in three sentences, the hours in one; a caller who
    asks for a person («humano») is handed off."""

    def __init__(self) -> None:
        self.turns: list[AssistantTurn] = []

    async def respond(
        self, turn: AssistantTurn, *, drafting: Drafting | None = None
    ) -> AssistantReply:
        self.turns.append(turn)
        heard = " ".join(m.text or "" for m in turn.unanswered)
        if "humano" in heard:
            return AssistantReply((PUT_THROUGH,), (ToolCall(HAND_OFF),), hand_off=True)
        if "horario" in heard:
            return AssistantReply((HOURS,))
        return AssistantReply((" ".join(PRICES),))


@attrs.define
class Line:
    """A served app with its fakes, and the way to call it."""

    base_url: str
    container: Container
    hearing: FakeSpeechToText
    assistant: PhoneAssistant
    twilio: FakeTwilioCalls

    @asynccontextmanager
    async def call(
        self, call_sid: str, caller: str = "+51987654321"
    ) -> AsyncIterator[TwilioCaller]:
        self.twilio.live.add(call_sid)
        url, parameters = await answered_call(self.base_url, call_sid, caller)
        async with TwilioCaller(url, call_sid, parameters) as opened:
            yield opened

    async def transcript(self, call_sid: str) -> list[tuple[str, str | None]]:
        """(author, text) of the call's conversation, in order; [] with no conversation."""
        async with self.container.gateways.unit_of_work(read_only=True) as uow:
            conversation = await uow.conversations.by_thread(Channel.VOICE, call_sid)
            if conversation is None:
                return []
            messages: list[Message] = await uow.messages.history(conversation.id, 100)
        return [(m.author.value, m.text) for m in messages]

    async def conversation_status(self, call_sid: str) -> str | None:
        async with self.container.gateways.unit_of_work(read_only=True) as uow:
            conversation = await uow.conversations.by_thread(Channel.VOICE, call_sid)
        return None if conversation is None else conversation.status.value


OpenLine = Callable[..., Any]


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilioCalls]:
    server = FakeTwilioCalls(ACCOUNT_SID, CHANNELS["twilio_auth_token"])
    await server.start()
    yield server
    await server.close()


@asynccontextmanager
async def open_line(
    url: str,
    twilio: FakeTwilioCalls,
    *,
    speech: TextToSpeech | None = None,
    prepare: Callable[[Container], None] | None = None,
) -> AsyncIterator[Line]:
    settings = settings_for_tests(
        url,
        channels={**CHANNELS, "twilio_api_url": twilio.base_url},
        voice={"greeting": GREETING, "transfer_number": DESK},
    )
    container = build_container(settings)
    hearing = FakeSpeechToText()
    assistant = PhoneAssistant()
    container.gateways.speech_to_text.override(providers.Object(hearing))
    container.gateways.text_to_speech.override(providers.Object(speech or FakeTextToSpeech()))
    container.use_cases.assistant.override(providers.Object(assistant))
    if prepare is not None:
        prepare(container)
    async with served(create_app(container)) as base_url:
        yield Line(base_url, container, hearing, assistant, twilio)


@pytest.fixture
async def sqlite_url(engines: Engines) -> AsyncIterator[str]:
    engine = await engines.get("sqlite")
    yield engine.url.render_as_string(hide_password=False)
    await empty_tables(engine)
