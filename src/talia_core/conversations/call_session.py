"""One phone call, live: the caller's frames in, the assistant's voice out.

Each frame is judged speech or not and handed to the call's ``CallFloor``. An utterance
that ended is transcribed, answered by the assistant and spoken back sentence by sentence
(each sentence synthesised, put on the line and marked while the next one is being
synthesised). A barge-in clears the line and drops the answer in progress; what the caller
heard of an answer (up to its last echoed mark) is what the conversation keeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from talia_core.conversations.call_ports import LINE_RATE, CallLine, SpeechDetector
from talia_core.conversations.calls import CallReply, ConnectedCall, VoiceCalls, sentences
from talia_core.conversations.ports import Speaker
from talia_core.conversations.voice_call import CallFloor, Heard, TurnTaking, Utterance
from talia_core.shared.errors import TaliaError
from talia_core.shared.speech import (
    MULAW,
    Audio,
    AudioConverter,
    AudioFormat,
    SpeechToText,
    TextToSpeech,
)

logger = logging.getLogger("talia.voice")


class CallSession:
    def __init__(
        self,
        calls: VoiceCalls,
        call: ConnectedCall,
        *,
        line: CallLine,
        detector: SpeechDetector,
        hearing: SpeechToText,
        speech: TextToSpeech,
        converter: AudioConverter,
        policy: TurnTaking,
        language: str | None = None,
    ) -> None:
        self._calls = calls
        self.call = call
        self._line = line
        self._detector = detector
        self._hearing = hearing
        self._speech = speech
        self._converter = converter
        self._floor = CallFloor(policy)
        self._language = language
        self._answering: asyncio.Task[None] | None = None
        self._speaker: Speaker | None = None
        self._transfer_when_heard = False

    async def greet(self) -> None:
        """Say the greeting (the caller may barge in on it like on any answer)."""
        self._start(self._say(CallReply(tuple(sentences((self.call.greeting,))))))

    async def hear(self, frame: bytes) -> None:
        """One 20 ms frame of the caller's μ-law audio."""
        event = self._floor.hear(frame, self._detector.is_speech(frame))
        if isinstance(event, Heard):
            await self._line.clear()
            await self._stop_answering()
            await self._keep(event)
        elif isinstance(event, Utterance):
            self._start(self._answer(event))

    async def played(self, mark: str) -> None:
        """The line echoed ``mark``."""
        heard = self._floor.played(mark)
        if heard is not None:
            await self._keep(heard)

    async def end(self) -> None:
        """The caller hung up (or the line closed)."""
        await self._stop_answering()
        heard = self._floor.hang_up()
        if heard is not None:
            await self._keep(heard)
        await self._calls.hang_up(self.call)

    def _start(self, answering: Coroutine[Any, Any, None]) -> None:
        self._floor.begin_answer()
        self._answering = asyncio.create_task(answering)

    async def _stop_answering(self) -> None:
        task, self._answering = self._answering, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            try:
                await task
            except Exception:  # the line went away mid-answer: the call is ending anyway
                logger.info("call %s: an answer ended with the line", self.call.call_id)

    async def _answer(self, utterance: Utterance) -> None:
        try:
            transcript = await self._hearing.transcribe(
                Audio(utterance.audio, MULAW, LINE_RATE), language=self._language
            )
            if not transcript.text.strip():
                await self._nothing_to_say()
                return
            reply = await self._calls.answer(self.call, transcript.text)
        except TaliaError as error:
            logger.warning("call %s: no answer to the caller: %s", self.call.call_id, error)
            await self._nothing_to_say()
            return
        await self._say(reply)

    async def _say(self, reply: CallReply) -> None:
        self._speaker = reply.speaker or self._speaker
        self._transfer_when_heard = reply.hand_off
        for sentence in reply.sentences:
            try:
                spoken = await self._speech.synthesize(
                    sentence,
                    language=self._language,
                    voice=reply.speaker.voice if reply.speaker else None,
                )
                audio = await self._converter.convert(spoken, AudioFormat.MULAW_8K)
            except TaliaError as error:
                logger.warning("call %s: a sentence not spoken: %s", self.call.call_id, error)
                continue
            mark = self._floor.speak(sentence)
            await self._line.play(audio.content)
            await self._line.mark(mark)
        heard = self._floor.all_sent()
        if heard is not None:
            await self._keep(heard)

    async def _nothing_to_say(self) -> None:
        heard = self._floor.all_sent()
        if heard is not None:
            await self._keep(heard)

    async def _keep(self, heard: Heard) -> None:
        try:
            await self._calls.heard(self.call, heard.text, self._speaker)
            if self._transfer_when_heard and not heard.interrupted:
                await self._calls.transfer(self.call)
        except TaliaError as error:
            logger.warning("call %s: %s", self.call.call_id, error)
