"""How many tokens a model reads in a text: what keeps a turn's history within its budget.

An exact count needs the model's own tokenizer, an adapter (OpenAI's models have one). A
provider without one is counted with the documented estimate, ``EstimatedTokenCounter``: one
token per four characters, rounded up, which holds for Spanish and English text with the
common tokenizers within about 20 %.
"""

from __future__ import annotations

from typing import Protocol

CHARS_PER_TOKEN = 4


class TokenCounter(Protocol):
    def count(self, model: str, text: str) -> int:
        """The tokens ``model`` reads in ``text``: none in no text, and never fewer when
        more words are added to it."""
        ...


class EstimatedTokenCounter:
    """The documented estimate, the same for every model."""

    def count(self, model: str, text: str) -> int:
        return -(-len(text) // CHARS_PER_TOKEN)
