"""A phone call's turn-taking, frame by frame: a pure state machine.

The line brings the caller's audio in frames, each judged speech or not. The machine says
when an utterance ended (enough silence after enough speech), when the caller barges in
(speech long enough while an answer is prepared or playing: a cough or an "mm-hm" is not),
and which parts of an answer the caller heard: each part is sent followed by a mark, and
the line echoes the mark once the audio before it has played.
"""

from __future__ import annotations

import enum
from collections import deque

import attrs

from talia_core.shared.errors import RuleViolated


def _positive(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value <= 0:
        raise RuleViolated(f"{attribute.name} must be positive", {attribute.name: "positive"})


@attrs.frozen
class TurnTaking:
    """When an utterance ends and what interrupts an answer, in milliseconds of audio."""

    frame_ms: int = attrs.field(default=20, validator=_positive)
    end_of_speech_ms: int = attrs.field(default=600, validator=_positive)
    """The silence that ends the caller's utterance."""
    min_speech_ms: int = attrs.field(default=300, validator=_positive)
    """Shorter speech (a cough, "mm-hm") neither interrupts an answer nor is an utterance."""
    pre_roll_ms: int = attrs.field(default=200, validator=_positive)
    """Audio kept from before the speech began, so the first syllable is not cut."""
    max_utterance_ms: int = attrs.field(default=30_000, validator=_positive)
    """An utterance this long ends even without silence."""

    def frames(self, milliseconds: int) -> int:
        return max(1, -(-milliseconds // self.frame_ms))


class Floor(enum.Enum):
    LISTENING = "listening"
    THINKING = "thinking"  # an answer is being prepared
    SPEAKING = "speaking"  # parts of the answer are playing


@attrs.frozen
class Utterance:
    """What the caller said, as the frames heard (pre-roll included)."""

    audio: bytes = attrs.field(repr=lambda a: f"<{len(a)} bytes>")
    speech_ms: int


@attrs.frozen
class Heard:
    """An answer settled: the parts of it the caller heard, in order; ``interrupted`` when
    the caller barged in before its end."""

    parts: tuple[str, ...]
    interrupted: bool = False

    @property
    def text(self) -> str:
        return " ".join(self.parts)


@attrs.frozen
class _Part:
    mark: str
    text: str


class CallFloor:
    def __init__(self, policy: TurnTaking) -> None:
        self._policy = policy
        self._before: deque[bytes] = deque(maxlen=policy.frames(policy.pre_roll_ms))
        self._frames: list[bytes] = []
        self._speech = 0
        self._silence = 0
        self._barged = False
        self._answers = 0
        self._pending: deque[_Part] = deque()
        self._heard: list[str] = []
        self._all_sent = False
        self.floor = Floor.LISTENING

    # --- the caller ---------------------------------------------------------------------

    def hear(self, frame: bytes, speech: bool) -> Utterance | Heard | None:
        """One frame of the caller's audio: an ``Utterance`` when one ended, ``Heard`` when
        the caller barged in on the answer (its heard parts), else None."""
        if not self._frames:
            if not speech:
                self._before.append(frame)
                return None
            self._frames = [*self._before, frame]
            self._before.clear()
            self._speech, self._silence = 1, 0
        else:
            self._frames.append(frame)
            if speech:
                self._speech += 1
                self._silence = 0
            else:
                self._silence += 1
        policy = self._policy
        if (
            self.floor is not Floor.LISTENING
            and not self._barged
            and self._speech >= policy.frames(policy.min_speech_ms)
        ):
            self._barged = True
            return self._settle(interrupted=True)
        if self._silence >= policy.frames(policy.end_of_speech_ms) or len(
            self._frames
        ) >= policy.frames(policy.max_utterance_ms):
            return self._end_utterance()
        return None

    def _end_utterance(self) -> Utterance | None:
        speech_ms = self._speech * self._policy.frame_ms
        audio = b"".join(self._frames)
        self._frames, self._speech, self._silence, self._barged = [], 0, 0, False
        if speech_ms < self._policy.min_speech_ms:
            return None
        return Utterance(audio, speech_ms)

    # --- the answer ---------------------------------------------------------------------

    def begin_answer(self) -> None:
        """An answer is being prepared (an unsettled one before it is dropped unheard)."""
        self._answers += 1
        self._pending.clear()
        self._heard = []
        self._all_sent = False
        self.floor = Floor.THINKING

    def speak(self, text: str) -> str:
        """A part of the answer about to be sent: the name of the mark to send after it."""
        part = _Part(f"{self._answers}.{len(self._heard) + len(self._pending) + 1}", text)
        self._pending.append(part)
        self.floor = Floor.SPEAKING
        return part.mark

    def all_sent(self) -> Heard | None:
        """Every part of the answer was sent; ``Heard`` when it had nothing to play."""
        self._all_sent = True
        return self._settle() if not self._pending else None

    def played(self, mark: str) -> Heard | None:
        """The line echoed ``mark``: ``Heard`` once the whole answer has played. Marks of
        an answer already settled (interrupted, or cleared from the line) are ignored."""
        if not self._pending or self._pending[0].mark != mark:
            return None
        self._heard.append(self._pending.popleft().text)
        if self._all_sent and not self._pending:
            return self._settle()
        return None

    def hang_up(self) -> Heard | None:
        """The call ended: the answer in progress, if any, settled with what was heard."""
        if self.floor is Floor.LISTENING:
            return None
        return self._settle(interrupted=bool(self._pending) or not self._all_sent)

    def _settle(self, *, interrupted: bool = False) -> Heard:
        heard = Heard(tuple(self._heard), interrupted)
        self._pending.clear()
        self._heard = []
        self.floor = Floor.LISTENING
        return heard
