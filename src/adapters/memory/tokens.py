"""A token counter for tests, passing the ``TokenCounter`` contract suite
(``tests/contracts/assistants/token_counter.py``): one token a word, whatever the model,
and ``models`` lists the model of every count asked, in order."""

from __future__ import annotations


class FakeTokenCounter:
    def __init__(self) -> None:
        self.models: list[str] = []

    def count(self, model: str, text: str) -> int:
        self.models.append(model)
        return len(text.split())
