"""A call's session on fakes, frame by frame: what reaches the line when an engine fails."""

from __future__ import annotations

import asyncio
from functools import partial

import pytest

from adapters.audio.pcm import Samples, encoded
from adapters.memory.audio import FakeAudioConverter
from adapters.memory.database import InMemoryDatabase
from adapters.memory.speech import FakeSpeechToText, FakeTextToSpeech
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.memory.voice import FakeCallGreetings, FakeCallTransfers, FakeVoiceActivity
from talia_core.conversations.call_session import CallSession
from talia_core.conversations.calls import VoiceCalls
from talia_core.conversations.ports import AssistantReply, AssistantTurn, Drafting
from talia_core.conversations.voice_call import TurnTaking
from talia_core.shared.errors import ExternalServiceUnavailable
from talia_core.shared.speech import AudioFormat
from tests.audio import SILENCE
from tests.unit.voice.test_calls import TickingClock

LOUD = encoded(Samples(b"\x00\x40" * 160, 8000), AudioFormat.MULAW_8K).content


class TwoSentences:
    async def respond(
        self, turn: AssistantTurn, *, drafting: Drafting | None = None
    ) -> AssistantReply:
        return AssistantReply(("Claro que sí. Le ayudo con eso.",))


class RecordingLine:
    def __init__(self) -> None:
        self.sent: list[tuple[str, object]] = []

    async def play(self, audio: bytes) -> None:
        self.sent.append(("audio", len(audio)))

    async def mark(self, name: str) -> None:
        self.sent.append(("mark", name))

    async def clear(self) -> None:
        self.sent.append(("clear", None))

    @property
    def marks(self) -> list[object]:
        return [value for kind, value in self.sent if kind == "mark"]


class Phone:
    def __init__(self) -> None:
        self.database = InMemoryDatabase()
        self.hearing = FakeSpeechToText("quisiera una cita")
        self.speech = FakeTextToSpeech()
        self.line = RecordingLine()
        self.calls = VoiceCalls(
            partial(InMemoryUnitOfWork, self.database),
            TickingClock(),
            assistant=TwoSentences(),
            transfers=FakeCallTransfers(),
            greetings=FakeCallGreetings("Hola."),
        )
        self.conversation_id = ""

    async def session(self) -> CallSession:
        call = await self.calls.connect("CA1", "+51987654321")
        self.conversation_id = call.conversation_id
        return CallSession(
            self.calls,
            call,
            line=self.line,
            detector=FakeVoiceActivity().detector(),
            hearing=self.hearing,
            speech=self.speech,
            converter=FakeAudioConverter(),
            policy=TurnTaking(end_of_speech_ms=200, min_speech_ms=100),
        )

    async def texts(self) -> list[str | None]:
        async with InMemoryUnitOfWork(self.database, read_only=True) as uow:
            return [m.text for m in await uow.messages.history(self.conversation_id, 50)]


async def say(session: CallSession, voiced: int = 15, silent: int = 15) -> None:
    for frame in [LOUD] * voiced + [SILENCE] * silent:
        await session.hear(frame)
    await settle()


async def settle() -> None:
    for _ in range(50):
        await asyncio.sleep(0)


@pytest.fixture
def phone() -> Phone:
    return Phone()


async def test_an_answer_is_spoken_sentence_by_sentence_each_with_its_mark(phone: Phone) -> None:
    session = await phone.session()

    await say(session)

    assert phone.line.marks == ["1.1", "1.2"]
    assert [kind for kind, _ in phone.line.sent] == ["audio", "mark", "audio", "mark"]
    await session.played("1.1")
    await session.end()
    assert await phone.texts() == ["quisiera una cita", "Claro que sí."]


async def test_the_greeting_is_kept_once_heard(phone: Phone) -> None:
    session = await phone.session()
    await session.greet()
    await settle()

    await session.played("1.1")

    assert phone.line.marks == ["1.1"]
    assert await phone.texts() == ["Hola."]


async def test_with_the_recogniser_down_the_caller_is_not_answered_and_the_call_goes_on(
    phone: Phone,
) -> None:
    session = await phone.session()
    phone.hearing.fail_with(ExternalServiceUnavailable("stt", "down"))

    await say(session)
    phone.hearing.fail_with(None)
    await say(session)

    assert phone.line.marks == ["2.1", "2.2"]
    assert await phone.texts() == ["quisiera una cita"]


async def test_a_sentence_the_synthesiser_cannot_say_is_skipped(phone: Phone) -> None:
    session = await phone.session()
    phone.speech.fail_with(ExternalServiceUnavailable("tts", "down"))

    await say(session)

    assert phone.line.sent == []
    phone.speech.fail_with(None)
    await say(session)
    assert phone.line.marks == ["2.1", "2.2"]
