"""The tools assistants called in conversations, with what they answered."""

from __future__ import annotations

from adapters.persistence.connection import Transaction
from adapters.persistence.conversations.tables import tool_uses
from adapters.persistence.mapping import as_row, from_row
from talia_core.conversations.tool_uses import ToolUse
from talia_core.shared.pagination import Page, PageRequest


class SqlAlchemyToolUseRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, use: ToolUse) -> None:
        await self._tx.execute(tool_uses.insert().values(as_row(use)))

    async def find(self, conversation_id: str, page: PageRequest) -> Page[ToolUse]:
        query = tool_uses.select().where(tool_uses.c.conversation_id == conversation_id)
        order = [tool_uses.c.at.desc(), tool_uses.c.id.desc()]
        return await self._tx.page(query, page, order, lambda row: from_row(ToolUse, row))
