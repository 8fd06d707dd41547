"""``search_knowledge``: passages of the business's documents, from the collections the
conversation's assistant may search (its definition's ``knowledge``), never others.

The output leads with the best passage's ``text`` and ``source`` (document title and
section), so an answer can quote and cite it, then lists every passage found.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from talia_core.assistants.language import ToolSpec
from talia_core.assistants.tools import ToolContext, ToolOutcome
from talia_core.knowledge.model import MAX_QUERY_LENGTH, Passage
from talia_core.knowledge.search import KnowledgeSearch

PASSAGES = 4
"""Passages handed to the model: enough to answer from, few enough to keep the turn small."""


def _passage(passage: Passage) -> dict[str, Any]:
    chunk = passage.chunk
    return {
        "source": passage.source,
        "document": passage.title,
        "section": chunk.section,
        "page": chunk.page,
        "text": chunk.text,
    }


class SearchKnowledge:
    spec = ToolSpec(
        name="search_knowledge",
        description="Search the business's documents (FAQ, policies, price lists) for "
        "passages that answer the customer's question. Answer from the passages only, and "
        "name the source when asked to.",
        parameters={
            "type": "object",
            "properties": {
                "query": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_LENGTH},
            },
            "required": ["query"],
            "additionalProperties": False,
        },
    )
    acts = False

    def __init__(self, search: KnowledgeSearch, *, passages: int = PASSAGES) -> None:
        self._search = search
        self._passages = passages

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutcome:
        if not context.knowledge:
            return ToolOutcome.error("this assistant has no documents to search")
        found = await self._search.search(
            arguments["query"], context.knowledge, limit=self._passages
        )
        if not found:
            return ToolOutcome.of({"passages": [], "note": "no passage matches the question"})
        best = _passage(found[0])
        return ToolOutcome.of(
            {"text": best["text"], "source": best["source"], "passages": [*map(_passage, found)]}
        )
