"""Conversation use cases over one in-memory database, fake channels and a still clock.

``world`` holds the worker's ``pipeline``, the agents' ``desk`` and ``contacts`` over the same
data, with shortcuts: ``world.receive(whatsapp("hola", wa_id=...))`` ingests an inbound
event, ``world.run_jobs()`` runs every job that is due, as the worker would. Voice notes
and photos are understood by the fake engines ``world.hearing`` and ``world.seeing``;
replies are spoken by ``world.speech`` and ``world.converter``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import partial

import attrs
import pytest

from adapters.channels.media_links import SignedMediaLinks
from adapters.channels.webchat import InProcessLiveFeed
from adapters.memory.audio import FakeAudioConverter
from adapters.memory.channels import FakeChannelSender, FakeMediaDownloader
from adapters.memory.database import InMemoryDatabase
from adapters.memory.files import InMemoryFileStore
from adapters.memory.inbox import InMemoryInbox
from adapters.memory.speech import FakeSpeechToText, FakeTextToSpeech
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.memory.vision import FakeImageUnderstanding
from talia_core.conversations.contact_book import ContactBook
from talia_core.conversations.desk import AgentDesk
from talia_core.conversations.events import InboundMessage, MediaRef, Sender
from talia_core.conversations.inbox import InboxService
from talia_core.conversations.pipeline import ConversationPipeline
from talia_core.conversations.ports import (
    HAND_OFF,
    AssistantReply,
    AssistantTurn,
    Drafting,
    Speaker,
    ToolCall,
)
from talia_core.conversations.understanding import MediaUnderstanding
from talia_core.conversations.vocabulary import Channel, ChannelIdentity, IdentityKind, MessageType
from talia_core.conversations.voicing import VoiceReplies
from talia_core.shared.clock import FakeClock
from talia_core.shared.errors import TaliaError
from talia_core.shared.jobs import JobRunner
from talia_core.shared.outbox_relay import OutboxRelay

DEBOUNCE = timedelta(seconds=2)
LINK_KEY = b"k" * 32
_ids = itertools.count(1)


class RecordingAssistant:
    """Answers each turn with one line naming what it was asked, drafting it in two pieces
    when asked to; "humano" asks for a person."""

    def __init__(self) -> None:
        self.turns: list[AssistantTurn] = []
        self.drafted: list[bool] = []
        self.speaker: Speaker | None = None

    async def respond(
        self, turn: AssistantTurn, *, drafting: Drafting | None = None
    ) -> AssistantReply:
        self.turns.append(turn)
        self.drafted.append(drafting is not None)
        texts = [m.text or f"<{m.type}>" for m in turn.unanswered]
        calls = tuple(ToolCall(HAND_OFF) for t in texts if "humano" in t)
        answer = f"answering: {' | '.join(texts)}"
        if drafting is not None:
            await drafting(answer[:11])
            await drafting(answer[11:])
        return AssistantReply(
            messages=(answer,), tool_calls=calls, hand_off=bool(calls), speaker=self.speaker
        )


def no_wait(attempts: int, error: TaliaError | None) -> float | None:
    return 0.0 if attempts < 3 else None


@attrs.define
class World:
    database: InMemoryDatabase
    clock: FakeClock
    pipeline: ConversationPipeline
    desk: AgentDesk
    contacts: ContactBook
    inbox: InboxService
    runner: JobRunner
    senders: dict[Channel, FakeChannelSender]
    media: FakeMediaDownloader
    files: InMemoryFileStore
    assistant: RecordingAssistant
    feed: InProcessLiveFeed
    hearing: FakeSpeechToText
    seeing: FakeImageUnderstanding
    speech: FakeTextToSpeech
    converter: FakeAudioConverter

    def uow(self, *, read_only: bool = False) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.database, read_only=read_only)

    async def run_jobs(self, *, after: timedelta = DEBOUNCE) -> int:
        """Let ``after`` pass, then run due jobs (and those they add) until none is due."""
        self.clock.advance(after)
        total = 0
        while ran := await self.runner.run_due(100):
            total += ran
        return total

    async def receive(self, *events: InboundMessage) -> None:
        for event in events:
            await self.pipeline.ingest(event)


def whatsapp(
    text: str | None = "hola",
    *,
    wa_id: str | None = "51987654321",
    bsuid: str | None = None,
    message_id: str | None = None,
    name: str | None = "Ana",
    at: datetime | None = None,
    type: MessageType = MessageType.TEXT,
    media: MediaRef | None = None,
) -> InboundMessage:
    identities: list[ChannelIdentity] = []
    if wa_id:
        identities.append(ChannelIdentity(IdentityKind.WA_ID, wa_id))
    if bsuid:
        identities.append(ChannelIdentity(IdentityKind.BSUID, bsuid))
    return InboundMessage(
        channel=Channel.WHATSAPP,
        external_id=message_id or f"wamid.{next(_ids)}",
        sender=Sender(tuple(identities), name, wa_id),
        type=type,
        sent_at=at or datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
        text=text,
        media=media,
    )


def chatwoot(text: str, *, thread: str = "77", contact: str = "9") -> InboundMessage:
    return InboundMessage(
        channel=Channel.CHATWOOT,
        external_id=f"cw-{next(_ids)}",
        sender=Sender((ChannelIdentity(IdentityKind.CHATWOOT_CONTACT, contact),), "Luis"),
        type=MessageType.TEXT,
        sent_at=datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
        text=text,
        thread=thread,
    )


def webchat(text: str, *, session: str) -> InboundMessage:
    return InboundMessage(
        channel=Channel.WEBCHAT,
        external_id=f"{session}:{next(_ids)}",
        sender=Sender((ChannelIdentity(IdentityKind.WEBCHAT_SESSION, session),), None),
        type=MessageType.TEXT,
        sent_at=datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
        text=text,
        thread=session,
    )


@pytest.fixture
def world() -> World:
    database = InMemoryDatabase()
    clock = FakeClock()
    uow = partial(InMemoryUnitOfWork, database)
    senders = {channel: FakeChannelSender() for channel in Channel}
    media = FakeMediaDownloader()
    files = InMemoryFileStore()
    assistant = RecordingAssistant()
    feed = InProcessLiveFeed()
    hearing, seeing = FakeSpeechToText(), FakeImageUnderstanding("una torta de bodas")
    speech, converter = FakeTextToSpeech(), FakeAudioConverter()
    understanding = MediaUnderstanding(
        uow, clock, files=files, hearing=hearing, seeing=seeing, language="es", debounce=DEBOUNCE
    )
    voice = VoiceReplies(
        speech=speech,
        converter=converter,
        files=files,
        links=SignedMediaLinks(LINK_KEY, base_url="https://talia.example"),
        language="es",
    )
    pipeline = ConversationPipeline(
        uow,
        clock,
        senders=senders,
        downloaders=dict.fromkeys(Channel, media),
        files=files,
        assistant=assistant,
        live=feed,
        debounce=DEBOUNCE,
        understanding=understanding,
        voice=voice,
    )
    # The outbox relay with no consumer: it marks each message received relayed.
    relay = OutboxRelay(uow, clock, [])
    runner = JobRunner(uow, clock, {**pipeline.job_handlers(), **relay.job_handlers()}, no_wait)
    return World(
        database,
        clock,
        pipeline,
        AgentDesk(uow, clock),
        ContactBook(uow, clock),
        InboxService(InMemoryInbox(database), clock),
        runner,
        senders,
        media,
        files,
        assistant,
        feed,
        hearing,
        seeing,
        speech,
        converter,
    )


def texts(messages: Sequence[object]) -> list[str | None]:
    return [getattr(m, "text", None) for m in messages]
