"""Calls as Twilio makes them: the voice webhook, then a Media Stream over a real WebSocket
with the caller's Spanish (said by espeak-ng) sent at real pace, and the app's audio played
back at real pace by the simulated Twilio, which echoes marks as the audio plays."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from dependency_injector import providers

from adapters.audio.vad import WebRtcVoiceActivity
from adapters.perception.espeak import EspeakTextToSpeech
from entrypoints.container import Container
from talia_core.shared.clock import FakeClock
from tests.audio import espeak, frames, spoken_on_the_line
from tests.integration.voice.caller import TwilioCaller
from tests.integration.voice.calls_server import FakeTwilioCalls
from tests.integration.voice.conftest import (
    DESK,
    GREETING,
    HOURS,
    PRICES,
    PUT_THROUGH,
    open_line,
)

POLICY_VIOLATION = 1008
PAUSE = 0.9
"""Silence after each utterance: past the end of speech (600 ms)."""


async def test_a_call_holds_a_two_turn_conversation_with_a_barge_in(
    database_url: str,
    twilio: FakeTwilioCalls,
) -> None:
    espeak()
    async with open_line(database_url, twilio, speech=EspeakTextToSpeech()) as line:
        line.hearing.will_hear("Buenos días, quisiera saber los precios", "Perdón, ¿y el horario?")
        prices = await spoken_on_the_line("Buenos días, quisiera saber los precios.")
        hours = await spoken_on_the_line("Perdón, ¿y el horario?")
        async with line.call("CA0001") as caller:
            assert (await caller.until("mark")).data == "1.1"
            await caller.until("played")  # the greeting was heard

            await caller.say(prices, then_silence=PAUSE)
            await caller.until("played", 2)  # the first sentence of the prices was heard
            barging = time.monotonic()
            speaking = asyncio.create_task(caller.say(hours, then_silence=PAUSE))
            clear = await caller.until("clear")
            await speaking
            await caller.until("played", 3)
            await caller.hang_up()
            await caller.until("closed")

        assert barging < clear.at < barging + 1.0  # while the caller was still speaking
        assert len(caller.of("clear")) == 1
        assert caller.played == ["1.1", "2.1", "3.1"]
        assert [m.data for m in caller.of("mark")] == ["1.1", "2.1", "2.2", "2.3", "3.1"]
        assert [turn.unanswered[-1].text for turn in line.assistant.turns] == [
            "Buenos días, quisiera saber los precios",
            "Perdón, ¿y el horario?",
        ]
        assert await line.transcript("CA0001") == [
            ("bot", GREETING),
            ("contact", "Buenos días, quisiera saber los precios"),
            ("bot", PRICES[0]),
            ("contact", "Perdón, ¿y el horario?"),
            ("bot", HOURS),
        ]
        assert await line.conversation_status("CA0001") == "closed"
        assert {(a.mime_type, a.sample_rate) for a in line.hearing.heard} == {("audio/basic", 8000)}


async def test_the_greeting_plays_as_soon_as_the_stream_starts(
    sqlite_url: str, twilio: FakeTwilioCalls
) -> None:
    espeak()
    async with open_line(sqlite_url, twilio, speech=EspeakTextToSpeech()) as line:
        async with line.call("CA0002") as caller:
            first = await caller.until("media")
            await caller.until("played")
            await caller.hang_up()
            await caller.until("closed")

        greeting = caller.media_between(first.at)
        assert len(greeting) > 0.8 * 8000  # espeak-ng says it in about a second
        assert await line.transcript("CA0002") == [("bot", GREETING)]


async def test_a_cough_during_the_answer_does_not_interrupt_it(
    sqlite_url: str, twilio: FakeTwilioCalls
) -> None:
    async with open_line(sqlite_url, twilio) as line:
        line.hearing.will_hear("quisiera saber los precios")
        question = await spoken_on_the_line("Quisiera saber los precios.")
        cough = await short_burst(await spoken_on_the_line("Ajá, ajá."), frames_long=6)
        async with line.call("CA0003") as caller:
            await caller.until("played")
            await caller.say(question, then_silence=PAUSE)
            await caller.until("played", 2)
            await caller.say(cough, then_silence=PAUSE)
            await caller.until("played", 4)
            await caller.hang_up()
            await caller.until("closed")

        assert caller.of("clear") == []
        assert caller.played == ["1.1", "2.1", "2.2", "2.3"]
        assert len(line.assistant.turns) == 1
        assert (await line.transcript("CA0003"))[-1] == ("bot", " ".join(PRICES))


async def test_handoff_to_human_puts_the_call_through_once_the_caller_heard_why(
    sqlite_url: str, twilio: FakeTwilioCalls
) -> None:
    async with open_line(sqlite_url, twilio) as line:
        line.hearing.will_hear("quiero hablar con un humano")
        asking = await spoken_on_the_line("Quiero hablar con un humano.")
        async with line.call("CA0004") as caller:
            await caller.until("played")
            await caller.say(asking, then_silence=PAUSE)
            await caller.until("played", 2)
            async with asyncio.timeout(5):
                await twilio.was_updated.wait()
            await caller.hang_up()
            await caller.until("closed")

        assert twilio.updated == [("CA0004", f"<Response><Dial>{DESK}</Dial></Response>")]
        assert (await line.transcript("CA0004"))[-1] == ("bot", PUT_THROUGH)
        assert await line.conversation_status("CA0004") == "human"


@pytest.mark.parametrize(
    "parameters",
    [{}, {"token": "1.forged", "caller": "+51987654321"}, {"caller": "+51987654321"}],
    ids=["none", "forged", "missing"],
)
async def test_a_stream_without_our_token_is_closed_and_nothing_is_stored(
    sqlite_url: str, twilio: FakeTwilioCalls, parameters: dict[str, str]
) -> None:
    async with open_line(sqlite_url, twilio) as line:
        url = line.base_url.replace("http", "ws", 1) + "/api/voice/stream"
        async with TwilioCaller(url, "CA0005", parameters) as caller:
            closed = await caller.until("closed")

        assert closed.data[0] == POLICY_VIOLATION
        assert caller.of("media") == []
        assert await line.transcript("CA0005") == []


async def test_another_call_s_token_or_number_is_refused(
    sqlite_url: str, twilio: FakeTwilioCalls
) -> None:
    async with open_line(sqlite_url, twilio) as line:
        async with line.call("CA0006") as genuine:
            await genuine.until("media")
            await genuine.hang_up()
            await genuine.until("closed")
        token = genuine.parameters["token"]  # what our webhook minted for CA0006
        url = line.base_url.replace("http", "ws", 1) + "/api/voice/stream"
        for call, number in [("CA0007", "+51987654321"), ("CA0006", "+51900000000")]:
            async with TwilioCaller(url, call, {"token": token, "caller": number}) as caller:
                closed = await caller.until("closed")
            assert closed.data[0] == POLICY_VIOLATION

        assert await line.transcript("CA0007") == []


async def test_an_expired_token_is_refused(sqlite_url: str, twilio: FakeTwilioCalls) -> None:
    clock = FakeClock()

    def stand_still(container: Container) -> None:
        container.core.clock.override(providers.Object(clock))

    async with open_line(sqlite_url, twilio, prepare=stand_still) as line:
        async with line.call("CA0008") as late:
            pass
        clock.advance(timedelta(seconds=61))
        url = line.base_url.replace("http", "ws", 1) + "/api/voice/stream"
        async with TwilioCaller(url, "CA0008", late.parameters) as caller:
            closed = await caller.until("closed")

        assert closed.data[0] == POLICY_VIOLATION


@pytest.mark.parametrize(
    "message",
    [
        {"event": "media", "media": {"payload": "not base64!"}},
        {"event": "dance"},
        {"event": "start", "start": {"callSid": "CA0009"}},
    ],
    ids=["payload", "event", "second-start"],
)
async def test_a_malformed_frame_closes_the_stream(
    sqlite_url: str, twilio: FakeTwilioCalls, message: dict[str, object]
) -> None:
    async with open_line(sqlite_url, twilio) as line, line.call("CA0009") as caller:
        await caller.until("media")
        await caller.send({**message, "streamSid": caller.stream_sid})
        closed = await caller.until("closed")

    assert closed.data[0] == POLICY_VIOLATION


async def short_burst(speech: bytes, *, frames_long: int) -> bytes:
    """``frames_long`` frames of ``speech`` from where the voice begins: 120 ms is a cough's
    length (the detector hears a few frames more: it holds on after speech)."""
    detector = WebRtcVoiceActivity(2).detector()
    said = frames(speech)
    start = next(n for n, frame in enumerate(said) if detector.is_speech(frame))
    return b"".join(said[start : start + frames_long])
