"""Phone calls through Talia's voice channel, with fakes answering instantly: how soon a
caller hears the greeting and each answer, and how many calls one process holds at real pace.

    .venv/bin/python -m benchmarks.voice [--turns 6] [--levels 25,50,75] [--seconds 15]

The app runs in its own process (uvicorn, SQLite, the real WebRTC voice activity detector and
μ-law conversion; the speech recogniser, the assistant and the speech synthesiser are fakes
that answer at once). Simulated Twilio callers (``tests/integration/voice/caller.py``) in this
process say a Spanish question made by espeak-ng, in 20 ms frames at real pace, and play
the answer back at real pace as Twilio does.

- Answer latency: from the caller's last voiced frame to the first audio frame back, less
  the configured end-of-speech silence (600 ms); and from the frame where the detector's
  silence ran out (the detector holds on for a few frames after speech, replayed here) to
  the first audio frame: Talia's own processing.
- Greeting: the first audio frame after ``start``.
- Concurrent calls at real pace: each call asks again as soon as it has heard the answer;
  an answer frame is late when it arrives after its turn to play (Twilio's buffer would run
  dry); the server process's CPU is read from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from dependency_injector import providers
from litestar import Litestar
from tests.api import settings_for_tests
from tests.audio import SILENCE, frames, spoken_on_the_line
from tests.channels import CHANNELS
from tests.integration.voice.caller import FRAME_SECONDS, TwilioCaller, answered_call

from adapters.audio.vad import WebRtcVoiceActivity
from adapters.channels.twilio_voice import stream
from adapters.channels.twilio_voice.stream import TwilioCallLine
from adapters.memory.speech import FakeSpeechToText, FakeTextToSpeech
from adapters.persistence import migrations
from adapters.persistence.engine import create_database_engine
from benchmarks.servers import free_port, serving, uvicorn
from entrypoints.container import Container, build_container, close_resources, open_resources
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from entrypoints.wiring.voice import turn_taking
from talia_core.conversations.call_session import CallSession
from talia_core.conversations.ports import AssistantReply, AssistantTurn, Drafting
from talia_core.shared.speech import Audio

END_OF_SPEECH_MS = 600
DATABASE = "TALIA_VOICE_BENCHMARK_DATABASE"
ANSWER = "Con gusto, le ayudo."
PAUSE_FRAMES = 45  # 900 ms of silence after each question: past the end of speech


class InstantSpeech:
    """The fake synthesiser's WAV (a tone as long as the words), made once per text."""

    def __init__(self) -> None:
        self._made: dict[str, Audio] = {}
        self._fake = FakeTextToSpeech()

    async def synthesize(
        self, text: str, *, language: str | None = None, voice: str | None = None
    ) -> Audio:
        if text not in self._made:
            self._made[text] = await self._fake.synthesize(text)
        return self._made[text]


class InstantAssistant:
    async def respond(
        self, turn: AssistantTurn, *, drafting: Drafting | None = None
    ) -> AssistantReply:
        return AssistantReply((ANSWER,))


def app_settings() -> Settings:
    return settings_for_tests(
        os.environ[DATABASE],
        channels=CHANNELS,
        voice={"greeting": "Hola, gracias por llamar.", "end_of_speech_ms": END_OF_SPEECH_MS},
        log={"level": "WARNING"},
        http={"access_log": False},
    )


def engines(container: Container) -> None:
    """The fakes that answer at once."""
    container.gateways.speech_to_text.override(
        providers.Object(FakeSpeechToText("quisiera saber los precios"))
    )
    container.gateways.text_to_speech.override(providers.Object(InstantSpeech()))
    container.use_cases.assistant.override(providers.Object(InstantAssistant()))


def app() -> Litestar:
    """The app the benchmark calls (``uvicorn benchmarks.voice:app --factory``)."""
    container = build_container(app_settings())
    engines(container)
    return create_app(container)


class Question:
    """The caller's question as frames, and where the server's detector will hear it end."""

    def __init__(self, audio: bytes) -> None:
        detector = WebRtcVoiceActivity(2).detector()
        said = frames(audio)
        voiced = [n for n, frame in enumerate(said) if detector.is_speech(frame)]
        self.frames = said[: voiced[-1] + 1]
        self.last_voiced = len(self.frames) - 1
        # Replayed as the server hears it: the detector holds on after speech for a few frames.
        tail = [detector.is_speech(SILENCE) for _ in range(PAUSE_FRAMES)]
        held = max((n + 1 for n, speech in enumerate(tail) if speech), default=0)
        self.ended = self.last_voiced + held + END_OF_SPEECH_MS // 20


class Call:
    def __init__(self, base_url: str, number: int, question: Question) -> None:
        self._base_url = base_url
        self.sid = f"CA{number:032x}"
        self._question = question
        self.greeting: float | None = None
        self.beyond_silence: list[float] = []
        self.processing: list[float] = []
        self.answer_frames = 0
        self.late_frames = 0
        self.turns = 0
        self.sending_lag: list[float] = []

    async def run(self, turns: int | None, until: float) -> None:
        url, parameters = await answered_call(self._base_url, self.sid, f"+519{self.sid[-8:]}")
        async with TwilioCaller(url, self.sid, parameters) as caller:
            started = time.monotonic()
            first = await caller.until("media")
            self.greeting = first.at - started
            await caller.until("played")
            while (turns is None or self.turns < turns) and time.monotonic() < until:
                await self._turn(caller)
            await caller.hang_up()

    async def _turn(self, caller: TwilioCaller) -> None:
        heard = len(caller.played)
        before = len(caller.of("media"))
        sent: list[float] = []
        start = time.monotonic()
        for n, frame in enumerate(self._question.frames + [SILENCE] * PAUSE_FRAMES):
            await asyncio.sleep(max(0.0, start + n * FRAME_SECONDS - time.monotonic()))
            await caller.send(
                {
                    "event": "media",
                    "media": {"track": "inbound", "payload": base64.b64encode(frame).decode()},
                    "streamSid": caller.stream_sid,
                }
            )
            sent.append(time.monotonic())
            self.sending_lag.append(sent[-1] - start - n * FRAME_SECONDS)
        first = await caller.until("media", before + 1)
        last_voiced = sent[self._question.last_voiced]
        self.beyond_silence.append(first.at - last_voiced - END_OF_SPEECH_MS / 1000)
        self.processing.append(first.at - sent[self._question.ended])
        await caller.until("played", heard + 1)
        answer = [r for r in caller.of("media") if r.at >= first.at]
        self.answer_frames += len(answer)
        self.late_frames += sum(
            1 for n, r in enumerate(answer) if r.at > first.at + n * FRAME_SECONDS + FRAME_SECONDS
        )
        self.turns += 1


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def ms(value: float) -> str:
    return f"{value * 1000:.0f} ms"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pid(port: int) -> int:
    """The uvicorn process listening on ``port`` (this script's child)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            if parent == os.getpid() and str(port).encode() in command:
                return int(entry.name)
    raise RuntimeError("the server process was not found")


async def latency(base_url: str, question: Question, turns: int) -> None:
    calls = [Call(base_url, n, question) for n in range(1, 6)]
    await asyncio.gather(*(c.run(turns, float("inf")) for c in calls))
    beyond = [v for c in calls for v in c.beyond_silence]
    processing = [v for c in calls for v in c.processing]
    greetings = [c.greeting for c in calls if c.greeting is not None]
    print(f"answer, {len(beyond)} turns of 5 calls at once:")
    print(
        f"  last voiced frame -> first audio frame, beyond the {END_OF_SPEECH_MS} ms silence: "
        f"p50 {ms(statistics.median(beyond))}, p99 {ms(percentile(beyond, 0.99))}"
    )
    print(
        "  end of speech as detected -> first audio frame (Talia's processing): "
        f"p50 {ms(statistics.median(processing))}, p99 {ms(percentile(processing, 0.99))}"
    )
    print(
        f"greeting, first audio frame after start: p50 {ms(statistics.median(greetings))}, "
        f"p99 {ms(percentile(greetings, 0.99))}"
    )


async def concurrency(
    base_url: str, pid: int, question: Question, level: int, seconds: float, offset: int
) -> None:
    calls = [Call(base_url, offset + n, question) for n in range(level)]
    before = cpu_seconds(pid)
    started = time.monotonic()
    until = started + seconds
    await asyncio.gather(*(c.run(None, until) for c in calls))
    elapsed = time.monotonic() - started
    used = cpu_seconds(pid) - before
    processing = [v for c in calls for v in c.processing] or [float("nan")]
    lag = [v for c in calls for v in c.sending_lag] or [float("nan")]
    frames_back = sum(c.answer_frames for c in calls)
    late = sum(c.late_frames for c in calls)
    print(
        f"{level:>4} calls: {sum(c.turns for c in calls)} turns, answer processing "
        f"p50 {ms(statistics.median(processing))} p99 {ms(percentile(processing, 0.99))}, "
        f"{late}/{frames_back} answer frames late, server CPU {used / elapsed:.0%} of a core "
        f"({used / elapsed / level:.1%} per call); the callers sent their frames "
        f"p99 {ms(percentile(lag, 0.99))} behind time"
    )


class NullLine:
    """Twilio's side in this process: the messages are encoded as for the socket and
    dropped, and each mark comes back once its audio would have played."""

    def __init__(self) -> None:
        self.line = TwilioCallLine("MZ0", self._send)
        self.due: list[tuple[float, str]] = []
        self._queued_until = 0.0

    async def _send(self, text: str) -> None:
        message = json.loads(text)
        now = time.monotonic()
        if message["event"] == "media":
            self._queued_until = max(now, self._queued_until) + FRAME_SECONDS
        elif message["event"] == "mark":
            self.due.append((self._queued_until, message["mark"]["name"]))
        else:
            self.due.clear()
            self._queued_until = now


async def capacity(url: str, question: Question, level: int, seconds: float) -> None:
    """``level`` calls in this one process at real pace, with no socket: each 20 ms frame of
    each call, as Media Streams' JSON, is parsed and heard on its tick; a frame is late when
    it is handled more than 20 ms after its tick."""
    os.environ[DATABASE] = url
    container = build_container(app_settings())
    engines(container)
    await open_resources(container)
    try:
        calls = container.use_cases.voice_calls()
        settings = container.settings()
        frames_of_a_turn = question.frames + [SILENCE] * (PAUSE_FRAMES + 60)
        messages = [
            json.dumps({"event": "media", "media": {"payload": base64.b64encode(f).decode()}})
            for f in frames_of_a_turn
        ]
        lags: list[float] = []

        async def call(n: int) -> None:
            connected = await calls.connect(f"CA{n:032x}", f"+5191{n:07d}")
            line = NullLine()
            session = CallSession(
                calls,
                connected,
                line=line.line,
                detector=WebRtcVoiceActivity(settings.voice.vad_aggressiveness).detector(),
                hearing=container.gateways.speech_to_text(),
                speech=container.gateways.text_to_speech(),
                converter=container.gateways.audio_converter(),
                policy=turn_taking(settings),
                language="es",
            )
            start = time.monotonic() + (n % level) * FRAME_SECONDS / level  # spread over a tick
            tick = 0
            while tick * FRAME_SECONDS < seconds:
                due = start + tick * FRAME_SECONDS
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                event = stream.parse(messages[tick % len(messages)])
                assert isinstance(event, stream.Media)
                await session.hear(event.audio)
                while line.due and line.due[0][0] <= time.monotonic():
                    await session.played(line.due.pop(0)[1])
                lags.append(time.monotonic() - due)
                tick += 1
            await session.end()

        cpu, wall = time.process_time(), time.monotonic()
        await asyncio.gather(*(call(100_000 * level + n) for n in range(level)))
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        late = sum(1 for lag in lags if lag > FRAME_SECONDS)
        print(
            f"{level:>4} calls in one process: {len(lags)} frames, handled p50 "
            f"{ms(statistics.median(lags))} p99 {ms(percentile(lags, 0.99))} after their tick, "
            f"{late} ({late / len(lags):.2%}) over 20 ms late; CPU {cpu / wall:.0%} of a core "
            f"({cpu / wall / level:.1%} per call)"
        )
    finally:
        await close_resources(container)


async def main(turns: int, levels: list[int], seconds: float) -> None:
    question = Question(await spoken_on_the_line("Buenos días, quisiera saber los precios."))
    with tempfile.TemporaryDirectory() as workdir:
        url = f"sqlite+aiosqlite:///{workdir}/voice.db"
        engine = create_database_engine(url)
        try:
            await migrations.upgrade(engine)
        finally:
            await engine.dispose()
        port = free_port()
        env = {DATABASE: url, "TALIA_JOBS__RUN_IN_PROCESS": "false"}
        with serving(uvicorn("benchmarks.voice:app", port, factory=True), port, env=env):
            base_url = f"http://127.0.0.1:{port}"
            print(
                f"{platform.node()}: Python {platform.python_version()}, "
                f"{os.cpu_count()} CPUs, server in its own process, SQLite"
            )
            await Call(base_url, 0, question).run(1, float("inf"))  # warm-up: imports, caches
            await latency(base_url, question, turns)
            pid = server_pid(port)
            for n, level in enumerate(levels):
                await concurrency(base_url, pid, question, level, seconds, 1000 * (n + 1))
        for level in levels:
            await capacity(url, question, level, seconds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--levels", default="25,50,75")
    parser.add_argument("--seconds", type=float, default=15.0)
    arguments = parser.parse_args()
    levels = [int(n) for n in arguments.levels.split(",")]
    sys.exit(asyncio.run(main(arguments.turns, levels, arguments.seconds)))
