"""What the assistant wrote, made sendable: a model's answer may be longer than one message
holds or carry control characters, and a reply refused for that would leave the customer
with no answer at all."""

from __future__ import annotations

from talia_core.conversations.vocabulary import storable
from talia_core.shared.text import CONTROL

# Where a long answer is best cut, best first: between paragraphs, lines, sentences, words.
_BREAKS = ("\n\n", "\n", ". ", "? ", "! ", " ")


def sendable_parts(text: str, limit: int) -> list[str]:
    """``text`` without control characters (tabs and line breaks stay), in as few parts of
    at most ``limit`` characters as the best places to cut allow; none blank."""
    rest = CONTROL.sub("", storable(text)).strip()
    parts: list[str] = []
    while len(rest) > limit:
        cut = _cut(rest, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return [part for part in parts if part]


def _cut(text: str, limit: int) -> int:
    """Where to end the first part: after the last break that leaves it at least half full,
    else at the limit itself (a word longer than half a message)."""
    for mark in _BREAKS:
        found = text.rfind(mark, limit // 2, limit)
        if found != -1:
            return found + len(mark.rstrip()) if mark.strip() else found
    return limit
