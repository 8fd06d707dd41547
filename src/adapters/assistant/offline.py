"""The offline assistant: answers from a definition held as data, with no language model.

Nothing it says is written in code. It all comes from a definition, a JSON object (the
shape an assistant row will hold):

    {
      "name": "Talia",                  who speaks
      "language": "es",                 the language of its texts
      "description": "...",             optional, for people
      "greeting": {"reply": "...", "keywords": ["hola", "buenos dias"]},
      "fallback": "...",                said to text that matched nothing
      "media_reply": "...",             said to messages without text (audio, image, ...)
      "hand_off": {
        "keywords": ["una persona", "asesor*"],
        "reply": "...",
        "after_fallbacks": 2,           optional, an integer of at least 1
        "not_understood_reply": "..."   optional, else "reply" is said
      },
      "answers": [
        {"id": "prices", "keywords": ["precio*", "cuanto cuesta"], "reply": "...",
         "follow_up": "..."}            "follow_up" optional
      ],
      "follow_up_limit": 1              optional, an integer of at least 0; 1 when left out
    }

Every text is non-blank, without control characters other than line breaks and tabs, and
at most 4,096 characters long (what one message carries; a name 200, a language 35, an
answer id 100); answer ids are unique, and unknown keys are refused so that a misspelt one
does not go unnoticed. ``load_definition`` and ``parse_definition`` raise ``RuleViolated``
naming every offending path (``answers[2].keywords[0]``) in its detail and in ``fields``.

Matching. Texts and keywords are normalised alike: case-folded, accents and other marks
stripped (``ñ`` reads ``n``), anything but letters and digits made a space. A keyword, or a
phrase of several words, matches whole words only: ``precio`` matches "¿Precio?" but not
"precios" nor "preciosa". Plurals and other endings count only where the definition says
so: a ``*`` ending a word makes it a prefix (``precio*`` matches "Precios"; ``pag*``
matches "pago", "pagos" and "pagar"; ``medio* de pago`` matches "medios de pago").

A turn. All the unanswered messages are read together, and the reply is, in this order:

- the greeting, on the conversation's first turn, and on a later one when the customer
  greets and asks nothing else;
- each matched answer once, in the order the customer raised them, with ``media_reply``
  (once) where the first message without text came;
- when a hand-off keyword matched: ``hand_off.reply`` and a ``HAND_OFF`` tool call with
  ``{"reason": "requested"}``;
- else, when there was text and none of it matched anything: ``fallback``; or, when that
  makes ``after_fallbacks`` such turns in a row, ``not_understood_reply`` and a ``HAND_OFF``
  call with ``{"reason": "not_understood"}``. The run is counted again from the history each
  time: a turn that was understood or handed off, or an agent's message, ends it;
- else the follow-up questions of the matched answers, in their order, at most
  ``follow_up_limit`` of them, leaving out any the assistant already asked in the history.

A message is read by its text whatever its type (a button's reply, a captioned image);
text without a letter or digit (an "👍") asks for nothing and is not a fallback; a turn
with no messages gets no reply. The assistant keeps no state: one definition and one turn
always give the same reply.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from talia_core.conversations.messages import MAX_TEXT
from talia_core.conversations.ports import (
    HAND_OFF,
    AssistantReply,
    AssistantTurn,
    ToolCall,
    TurnMessage,
)
from talia_core.shared.errors import RuleViolated
from talia_core.shared.text import required_text

REQUESTED = "requested"
NOT_UNDERSTOOD = "not_understood"

MAX_KEYWORD = 200
_PREFIX = "*"
_ABSENT = object()


def normalise(text: str) -> str:
    """Case-folded words without accents or punctuation, one space apart."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = (c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return " ".join("".join(kept).split())


@attrs.frozen
class Keywords:
    """Keywords and phrases, compiled to find them in normalised text."""

    phrases: tuple[str, ...]
    _patterns: tuple[re.Pattern[str], ...] = attrs.field(eq=False, repr=False)

    @classmethod
    def of(cls, phrases: Sequence[str]) -> Keywords:
        return cls(tuple(phrases), tuple(_compile(phrase) for phrase in phrases))

    def find(self, text: str) -> int | None:
        """Where the first of them starts in ``text`` (normalised), or None."""
        padded = f" {text} "
        found = [match.start() for p in self._patterns if (match := p.search(padded))]
        return min(found, default=None)


def _words(phrase: str) -> list[tuple[str, bool]]:
    """Each normalised word of a keyword, and whether it is a prefix."""
    words: list[tuple[str, bool]] = []
    for token in phrase.split():
        if _PREFIX in token[:-1]:
            raise ValueError(f"'{_PREFIX}' may only end a word")
        parts = normalise(token.removesuffix(_PREFIX)).split()
        if not parts:
            raise ValueError(f"{token!r} has no letter or digit")
        words += [(part, False) for part in parts[:-1]]
        words.append((parts[-1], token.endswith(_PREFIX)))
    if not words:
        raise ValueError("has no letter or digit")
    return words


def _compile(phrase: str) -> re.Pattern[str]:
    # Normalised text is words of letters and digits one space apart, padded with a space
    # on each side, so a space on each side of the phrase means whole words.
    body = " ".join(
        re.escape(word) + ("[^ ]*" if prefix else "") for word, prefix in _words(phrase)
    )
    return re.compile(f" {body} ")


@attrs.frozen
class Greeting:
    reply: str
    keywords: Keywords


@attrs.frozen
class HandOff:
    keywords: Keywords
    reply: str
    not_understood_reply: str
    after_fallbacks: int | None = None


@attrs.frozen
class Answer:
    id: str
    keywords: Keywords
    reply: str
    follow_up: str | None = None


@attrs.frozen
class AssistantDefinition:
    name: str
    language: str
    greeting: Greeting
    fallback: str
    media_reply: str
    hand_off: HandOff
    answers: tuple[Answer, ...]
    follow_up_limit: int = 1
    description: str | None = None


# --- reading a definition ---------------------------------------------------------------


def load_definition(source: Path | bytes | str) -> AssistantDefinition:
    """Read a definition from a JSON file (a ``Path``) or from JSON text (``bytes``, ``str``)."""
    label = "assistant definition"
    if isinstance(source, Path):
        label = f"assistant definition {source.name}"
        try:
            source = source.read_bytes()
        except OSError as error:
            raise RuleViolated(
                f"{label} cannot be read: {error.strerror}", {"definition": "unreadable"}
            ) from None
    try:
        data = json.loads(source)
    except (ValueError, RecursionError) as error:
        raise RuleViolated(f"{label} is not JSON: {error}", {"definition": "not JSON"}) from None
    return parse_definition(data, label=label)


def parse_definition(data: Any, *, label: str = "assistant definition") -> AssistantDefinition:
    """Check decoded JSON (a stored row's column) and build the definition it describes."""
    if not isinstance(data, dict):
        raise RuleViolated(f"{label} must be a JSON object", {"definition": "not an object"})
    check = _Checker()
    definition = check.definition(data)
    if check.errors:
        listed = "; ".join(f"{path}: {reason}" for path, reason in check.errors.items())
        raise RuleViolated(f"{label} is invalid: {listed}", check.errors)
    return definition


def _at(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class _Checker:
    """Reads the definition's parts, noting every fault by its path instead of stopping."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def fail(self, path: str, reason: str) -> None:
        self.errors.setdefault(path or "definition", reason)

    def definition(self, data: Mapping[str, Any]) -> AssistantDefinition:
        top = self.fields(
            data,
            "",
            required=("name", "language", "greeting", "fallback", "media_reply", "hand_off"),
            optional=("description", "answers", "follow_up_limit"),
        )
        greeting = self.fields(
            top.get("greeting", _ABSENT), "greeting", required=("reply", "keywords")
        )
        hand_off = self.fields(
            top.get("hand_off", _ABSENT),
            "hand_off",
            required=("keywords", "reply"),
            optional=("after_fallbacks", "not_understood_reply"),
        )
        hand_off_reply = self.text(hand_off, "reply", "hand_off")
        follow_up_limit = self.integer(top, "follow_up_limit", "", least=0)
        return AssistantDefinition(
            name=self.text(top, "name", "", max_length=200),
            language=self.text(top, "language", "", max_length=35),
            description=self.optional_text(top, "description", ""),
            greeting=Greeting(
                reply=self.text(greeting, "reply", "greeting"),
                keywords=self.keywords(greeting, "greeting"),
            ),
            fallback=self.text(top, "fallback", ""),
            media_reply=self.text(top, "media_reply", ""),
            hand_off=HandOff(
                keywords=self.keywords(hand_off, "hand_off"),
                reply=hand_off_reply,
                not_understood_reply=self.optional_text(
                    hand_off, "not_understood_reply", "hand_off"
                )
                or hand_off_reply,
                after_fallbacks=self.integer(hand_off, "after_fallbacks", "hand_off", least=1),
            ),
            answers=self.answers(top.get("answers", [])),
            follow_up_limit=1 if follow_up_limit is None else follow_up_limit,
        )

    def answers(self, data: Any) -> tuple[Answer, ...]:
        if not isinstance(data, list):
            self.fail("answers", "must be a list")
            return ()
        answers: list[Answer] = []
        seen: set[str] = set()
        for index, item in enumerate(data):
            path = _at("answers", index)
            fields = self.fields(
                item, path, required=("id", "keywords", "reply"), optional=("follow_up",)
            )
            answer = Answer(
                id=self.text(fields, "id", path, max_length=100),
                keywords=self.keywords(fields, path),
                reply=self.text(fields, "reply", path),
                follow_up=self.optional_text(fields, "follow_up", path),
            )
            if answer.id in seen:
                self.fail(_at(path, "id"), f"repeats the id {answer.id!r}")
            seen.add(answer.id)
            answers.append(answer)
        return tuple(answers)

    def fields(
        self,
        data: Any,
        path: str,
        *,
        required: Sequence[str],
        optional: Sequence[str] = (),
    ) -> Mapping[str, Any]:
        if data is _ABSENT:
            return {}  # noted as missing by ``fields`` of the part that holds it
        if not isinstance(data, dict):
            self.fail(path, "must be an object")
            return {}
        for key in data:
            if key not in required and key not in optional:
                self.fail(_at(path, str(key)), "is not a known key")
        for key in required:
            if key not in data:
                self.fail(_at(path, key), "is missing")
        return data

    def text(
        self, fields: Mapping[str, Any], key: str, path: str, *, max_length: int = MAX_TEXT
    ) -> str:
        if key not in fields:
            return ""  # noted as missing by ``fields``, or the part itself was wrong
        value = fields[key]
        where = _at(path, key)
        if not isinstance(value, str):
            self.fail(where, "must be a string")
            return ""
        return self._checked(where, value, max_length)

    def optional_text(self, fields: Mapping[str, Any], key: str, path: str) -> str | None:
        if key not in fields:
            return None
        value = fields[key]
        if not isinstance(value, str):
            self.fail(_at(path, key), "must be a string")
            return None
        return self._checked(_at(path, key), value, MAX_TEXT) or None

    def _checked(self, where: str, value: str, max_length: int) -> str:
        try:
            return required_text(where, value, max_length)
        except RuleViolated as error:
            self.fail(where, error.fields.get(where, error.detail))
            return ""

    def integer(
        self,
        fields: Mapping[str, Any],
        key: str,
        path: str,
        *,
        least: int,
    ) -> int | None:
        if key not in fields:
            return None
        value = fields[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            self.fail(_at(path, key), f"must be an integer of at least {least}")
            return None
        return value

    def keywords(self, fields: Mapping[str, Any], path: str) -> Keywords:
        where = _at(path, "keywords")
        if "keywords" not in fields:
            return Keywords.of(())
        value = fields["keywords"]
        if not isinstance(value, list) or not value:
            self.fail(where, "must be a list of at least one keyword")
            return Keywords.of(())
        phrases: list[str] = []
        for index, phrase in enumerate(value):
            spot = _at(where, index)
            if not isinstance(phrase, str):
                self.fail(spot, "must be a string")
            elif len(phrase) > MAX_KEYWORD:
                self.fail(spot, f"must be at most {MAX_KEYWORD} characters")
            else:
                try:
                    _words(phrase)
                except ValueError as error:
                    self.fail(spot, str(error))
                else:
                    phrases.append(phrase)
        return Keywords.of(phrases)


# --- answering --------------------------------------------------------------------------


@attrs.frozen
class _Reading:
    """What a run of the customer's messages asks for."""

    answers: tuple[Answer, ...]  # matched, in the order raised
    replies: tuple[str, ...]  # their replies and the media reply, in the order raised
    greeted: bool
    hand_off: bool
    has_text: bool  # some message has a letter or a digit

    @property
    def missed(self) -> bool:
        """There was text, and none of it matched anything."""
        return self.has_text and not (self.greeted or self.hand_off or self.answers)


class OfflineAssistant:
    def __init__(self, definition: AssistantDefinition) -> None:
        self._definition = definition

    @property
    def definition(self) -> AssistantDefinition:
        return self._definition

    async def respond(self, turn: AssistantTurn) -> AssistantReply:
        if not turn.unanswered:
            return AssistantReply()
        definition = self._definition
        reading = self._read(turn.unanswered)
        messages: list[str] = []
        if turn.is_first or (reading.greeted and not reading.replies and not reading.hand_off):
            messages.append(definition.greeting.reply)
        messages += reading.replies
        if reading.hand_off:
            messages.append(definition.hand_off.reply)
            return AssistantReply(tuple(messages), (ToolCall(HAND_OFF, {"reason": REQUESTED}),))
        if reading.missed:
            if self._gives_up(self._misses(turn.history) + 1):
                messages.append(definition.hand_off.not_understood_reply)
                call = ToolCall(HAND_OFF, {"reason": NOT_UNDERSTOOD})
                return AssistantReply(tuple(messages), (call,))
            messages.append(definition.fallback)
            return AssistantReply(tuple(messages))
        messages += self._follow_ups(reading, turn.history)
        return AssistantReply(tuple(messages))

    def _read(self, messages: Sequence[TurnMessage]) -> _Reading:
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
        answers = sorted(
            (a for a in definition.answers if a.id in raised), key=lambda a: raised[a.id]
        )
        spots = [(raised[a.id], a.reply) for a in answers]
        if media_at is not None:
            spots.append((media_at, definition.media_reply))
        return _Reading(
            answers=tuple(answers),
            replies=tuple(reply for _, reply in sorted(spots, key=lambda spot: spot[0])),
            greeted=greeted,
            hand_off=hand_off,
            has_text=has_text,
        )

    def _gives_up(self, misses: int) -> bool:
        after = self._definition.hand_off.after_fallbacks
        return after is not None and misses >= after

    def _misses(self, history: Sequence[TurnMessage]) -> int:
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

    def _follow_ups(self, reading: _Reading, history: Sequence[TurnMessage]) -> list[str]:
        asked = {m.text.strip() for m in history if m.author == "bot" and m.text}
        chosen: list[str] = []
        for question in (a.follow_up for a in reading.answers if a.follow_up):
            if len(chosen) == self._definition.follow_up_limit:
                break
            if question not in asked and question not in chosen:
                chosen.append(question)
        return chosen


def _runs(history: Sequence[TurnMessage]) -> Iterator[tuple[list[TurnMessage], str | None]]:
    """Each run of the customer's messages, and who wrote the first message after it."""
    run: list[TurnMessage] = []
    for message in history:
        if message.author == "contact":
            run.append(message)
            continue
        yield run, message.author
        run = []
    if run:
        yield run, None
