"""A ``TokenCounter`` for OpenAI's models, exact: their BPE encodings, through bpe-openai.

bpe-openai is tiktoken's API over GitHub's Rust ``bpe-openai`` crate, with the o200k_base and
cl100k_base encodings inside the wheel: counting needs no network (tiktoken downloads its
encodings when first used). A model takes the encoding bpe-openai names for it, or else the
one of the longest name it knows that the model's name extends (``gpt-4-turbo`` is
``gpt-4``'s cl100k_base, ``gpt-4.1-nano`` is ``gpt-4.1``'s o200k_base); any other name
(``gpt-5``, ``o3`` ...) is counted with o200k_base, the encoding of every OpenAI model since
gpt-4o, and so is a legacy encoding the wheel does not hold.

Importing bpe-openai builds its rank tables in Python (about 0.7 s and 70 MB; each encoding
loaded adds about 0.1 s and 75 MB), so it is imported when a process first counts, or
when it asks to ``load`` a model's tables ahead (the app does at start-up, on a thread,
when an OpenAI key is set). Counts
are kept per encoding and text, the most recent ``cached_texts`` of them: a conversation's
history is counted again at every turn.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

FALLBACK_ENCODING = "o200k_base"
_BUNDLED = frozenset({"o200k_base", "cl100k_base"})
_PIECE = 100_000
"""Characters encoded at once: bpe-openai refuses a million, and a cut moves a count by a
token at most."""


class BpeTokenCounter:
    def __init__(self, *, cached_texts: int = 2048) -> None:
        self._encodings: dict[str, Any] = {}
        self._names: dict[str, str] = {}
        self._counted = lru_cache(maxsize=cached_texts)(self._encoded)

    def count(self, model: str, text: str) -> int:
        if not text:
            return 0
        return self._counted(self._name(model), text)

    def load(self, model: str) -> None:
        """Build the tables ``model`` is counted with now: a start-up's work, on a thread,
        rather than the first count's, on the event loop."""
        self._encoding(self._name(model))

    def _name(self, model: str) -> str:
        name = self._names.get(model)
        if name is None:
            name = self._names[model] = _encoding_name(model)
        return name

    def _encoding(self, name: str) -> Any:
        encoding = self._encodings.get(name)
        if encoding is None:
            import bpe_openai

            encoding = self._encodings[name] = bpe_openai.get_encoding(name)
        return encoding

    def _encoded(self, name: str, text: str) -> int:
        encoding = self._encoding(name)
        pieces = range(0, len(text), _PIECE)
        return sum(len(encoding.encode_ordinary(text[at : at + _PIECE])) for at in pieces)


def _encoding_name(model: str) -> str:
    """The encoding bpe-openai gives ``model``, or the longest name it knows that ``model``
    extends; o200k_base when none, or when the wheel does not hold that encoding."""
    import bpe_openai

    name = model.lower()
    known = bpe_openai.list_supported_models()
    if name not in known:
        extended = [k for k in known if name.startswith(f"{k}-")]
        if not extended:
            return FALLBACK_ENCODING
        name = max(extended, key=len)
    encoding = str(bpe_openai.encoding_name_for_model(name))
    return encoding if encoding in _BUNDLED else FALLBACK_ENCODING
