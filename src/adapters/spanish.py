"""Spanish words as a full-text search reads them: folded, stripped of the commonest ones,
and cut to their stems.

Full-text engines without Spanish stemming (SQLite's FTS5, MariaDB's FULLTEXT) and the
in-memory index search the ``terms`` of a text instead of its words: each word's Snowball
stem, lower-cased and without accents, so "envíos" finds "envío" and "devoluciones"
"devolución". A word is stemmed as written and with its accents folded (people write
"devolucion"; Snowball cuts "-ción" but not "-cion"), and a word whose two stems differ
gives both. PostgreSQL's ``spanish`` configuration runs the same Snowball algorithm.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

_WORD = re.compile(r"[^\W_]+")

# Articles, prepositions, pronouns and the commonest verb forms, without accents.
_COMMON = """
    a al algo algun alguna algunas alguno algunos ante antes como con contra cual cuales
    cuando de del desde donde durante e el ella ellas ellos en entre era es esa esas ese
    eso esos esta estan estas este esto estos fue ha han hay he la las le les lo los me mi
    mis mucho muy nada ni no nos nosotros o os otra otro para pero poco por porque que
    quien se sea segun ser si sin sino sobre son su sus tambien te tu tus u un una unas
    uno unos usted ustedes vosotros y ya yo
"""
_STOPWORDS = frozenset(_COMMON.split())


@functools.cache
def _stemmer() -> Any:
    """Snowball's Spanish stemmer, imported by the first word stemmed (snowballstemmer loads
    every language it has, 4 MB)."""
    import snowballstemmer

    return snowballstemmer.stemmer("spanish")


def fold(word: str) -> str:
    """The word without its accents (and ñ as n)."""
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


def words(query: str) -> list[str]:
    """The searchable words of a query, lowercased, each once, in order."""
    found = dict.fromkeys(word.lower() for word in _WORD.findall(query))
    return [word for word in found if fold(word) not in _STOPWORDS]


@functools.lru_cache(maxsize=65536)
def stems(word: str) -> tuple[str, ...]:
    """The folded stems of a lower-cased word: one, or two when the word's accents change
    its stem."""
    stemmer = _stemmer()
    return tuple(dict.fromkeys((fold(stemmer.stemWord(word)), fold(stemmer.stemWord(fold(word))))))


def terms(text: str) -> str:
    """What an engine without Spanish stemming indexes for ``text``: the stems of every
    word, in order, separated by spaces (common words too: they weigh little)."""
    return " ".join(stem for word in _WORD.findall(text.lower()) for stem in stems(word))


def query_terms(query: str) -> list[str]:
    """The stems a query searches for, each once: of its searchable words only."""
    return list(dict.fromkeys(stem for word in words(query) for stem in stems(word)))
