"""Keywords as an offline definition writes them, and how they are found in a message.

Texts and keywords are normalised alike: case-folded, accents and other marks stripped
(``ñ`` reads ``n``), anything but letters and digits made a space. A keyword, or a phrase
of several words, matches whole words only: ``precio`` matches "¿Precio?" but not
"precios" nor "preciosa". A ``*`` ending a word makes it a prefix (``precio*`` matches
"Precios"; ``medio* de pago`` matches "medios de pago").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import attrs

MAX_KEYWORD = 200
_PREFIX = "*"


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


def keyword_words(phrase: str) -> list[tuple[str, bool]]:
    """Each normalised word of a keyword, and whether it is a prefix; ``ValueError`` saying
    why when it is not a keyword."""
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
        re.escape(word) + ("[^ ]*" if prefix else "") for word, prefix in keyword_words(phrase)
    )
    return re.compile(f" {body} ")
