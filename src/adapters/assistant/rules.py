"""How an offline definition answers the customer: one reply to the messages of a turn.

Shared by the offline assistant and the offline language model. All the unanswered
messages are read together, and the reply is, in this order:

- the greeting, on the conversation's first turn, and on a later one when the customer
  greets and asks nothing else;
- each matched answer once, in the order the customer raised them, with ``media_reply``
  (once) where the first message without text came;
- when a hand-off keyword matched: ``hand_off.reply``, and the hand-off ``REQUESTED``;
- else, when there was text and none of it matched anything: ``fallback``; or, when that
  makes ``after_fallbacks`` such turns in a row, ``not_understood_reply`` and the hand-off
  ``NOT_UNDERSTOOD``. The run is counted again from the history each time: a turn that was
  understood or handed off, or an agent's message, ends it;
- else the follow-up questions of the matched answers, in their order, at most
  ``follow_up_limit`` of them, leaving out any the assistant already asked in the history.

A message is read by its text whatever its type (a button's reply, a captioned image);
text without a letter or digit (an "👍") asks for nothing and is not a fallback. Nothing is
kept between turns: one definition and one turn always give the same reply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import attrs

from adapters.assistant.definition import Answer, AssistantDefinition, HandOff
from adapters.assistant.keywords import normalise

REQUESTED = "requested"
NOT_UNDERSTOOD = "not_understood"

Rule = Answer | HandOff
Say = Callable[[Rule, str], str]
"""What a rule says, given the text its definition writes for the case."""


def as_written(rule: Rule, text: str) -> str:
    return text


class Message(Protocol):
    @property
    def author(self) -> str:
        """``contact``, ``bot`` or ``agent``."""
        ...

    @property
    def text(self) -> str | None: ...


@attrs.frozen
class RulesReply:
    messages: tuple[str, ...]
    answers: tuple[Answer, ...]
    """Those matched, in the order raised."""
    hand_off: str | None = None
    """``REQUESTED`` or ``NOT_UNDERSTOOD`` when the conversation goes to a person."""
    missed: bool = False
    """Nothing the customer wrote matched: the reply is the fallback or gives up."""


@attrs.frozen
class _Reading:
    """What a run of the customer's messages asks for."""

    raised: tuple[Answer | None, ...]  # the matched answers and the media (None), in order
    greeted: bool
    hand_off: bool
    has_text: bool  # some message has a letter or a digit

    @property
    def answers(self) -> tuple[Answer, ...]:
        return tuple(answer for answer in self.raised if answer is not None)

    @property
    def missed(self) -> bool:
        """There was text, and none of it matched anything."""
        return self.has_text and not (self.greeted or self.hand_off or self.answers)


class Rules:
    def __init__(self, definition: AssistantDefinition) -> None:
        self._definition = definition

    def reply(
        self,
        unanswered: Sequence[Message],
        history: Sequence[Message],
        *,
        first: bool,
        say: Say = as_written,
    ) -> RulesReply:
        """The reply to ``unanswered`` after ``history``; ``first`` on the first turn."""
        if not unanswered:
            return RulesReply((), ())
        definition = self._definition
        reading = self._read(unanswered)
        messages: list[str] = []
        if first or (reading.greeted and not reading.raised and not reading.hand_off):
            messages.append(definition.greeting.reply)
        messages += [
            definition.media_reply if answer is None else say(answer, answer.reply)
            for answer in reading.raised
        ]
        hand_off = definition.hand_off
        if reading.hand_off:
            messages.append(say(hand_off, hand_off.reply))
            return RulesReply(tuple(messages), reading.answers, REQUESTED)
        if reading.missed:
            if self._gives_up(self._misses(history) + 1):
                messages.append(say(hand_off, hand_off.not_understood_reply))
                return RulesReply(tuple(messages), (), NOT_UNDERSTOOD, missed=True)
            messages.append(definition.fallback)
            return RulesReply(tuple(messages), (), missed=True)
        messages += self._follow_ups(reading, history)
        return RulesReply(tuple(messages), reading.answers)

    def _read(self, messages: Sequence[Message]) -> _Reading:
        definition = self._definition
        raised: dict[str, tuple[int, int, int]] = {}  # answer id -> (message, position, rank)
        media_at: tuple[int, int, int] | None = None
        greeted = hand_off = has_text = False
        for index, message in enumerate(messages):
            if message.text is None or not message.text.strip():
                media_at = media_at or (index, -1, -1)
                continue
            text = normalise(message.text)
            has_text = has_text or bool(text)
            greeted = greeted or definition.greeting.keywords.find(text) is not None
            hand_off = hand_off or definition.hand_off.keywords.find(text) is not None
            for rank, answer in enumerate(definition.answers):
                position = answer.keywords.find(text)
                if position is not None and answer.id not in raised:
                    raised[answer.id] = (index, position, rank)
        spots: list[tuple[tuple[int, int, int], Answer | None]] = [
            (raised[a.id], a) for a in definition.answers if a.id in raised
        ]
        if media_at is not None:
            spots.append((media_at, None))
        return _Reading(
            raised=tuple(answer for _, answer in sorted(spots, key=lambda spot: spot[0])),
            greeted=greeted,
            hand_off=hand_off,
            has_text=has_text,
        )

    def _gives_up(self, misses: int) -> bool:
        after = self._definition.hand_off.after_fallbacks
        return after is not None and misses >= after

    def _misses(self, history: Sequence[Message]) -> int:
        """How many turns in a row, up to the last one, were not understood."""
        misses = 0
        for run, answered_by in _runs(history):
            reading = self._read(run)
            if reading.hand_off or answered_by == "agent":
                misses = 0
            elif reading.missed:
                misses = 0 if self._gives_up(misses + 1) else misses + 1
            elif reading.answers or reading.greeted:
                misses = 0
        return misses

    def _follow_ups(self, reading: _Reading, history: Sequence[Message]) -> list[str]:
        """A question counts as asked when a message of the assistant holds it (one model
        reply may carry several of the definition's texts)."""
        said = [m.text for m in history if m.author == "bot" and m.text]
        chosen: list[str] = []
        for question in (a.follow_up for a in reading.answers if a.follow_up):
            if len(chosen) == self._definition.follow_up_limit:
                break
            if not any(question in text for text in said) and question not in chosen:
                chosen.append(question)
        return chosen


def _runs(history: Sequence[Message]) -> Iterator[tuple[list[Message], str | None]]:
    """Each run of the customer's messages, and who wrote the first message after it."""
    run: list[Message] = []
    for message in history:
        if message.author == "contact":
            run.append(message)
            continue
        yield run, message.author
        run = []
    if run:
        yield run, None
