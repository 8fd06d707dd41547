"""The in-memory inbox: the same contract as the SQL one, one transaction per call."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from adapters.memory.database import InMemoryDatabase
from adapters.memory.jobs import InMemoryJobStore
from talia_core.conversations.events import InboxEntry


class InMemoryInbox:
    def __init__(self, database: InMemoryDatabase) -> None:
        self._database = database

    async def accept(self, entries: Sequence[InboxEntry]) -> list[bool]:
        async with self._database.lock:
            state = copy.deepcopy(self._database.committed)
            stored = state.table("inbox")
            store = InMemoryJobStore(lambda: state)
            answers = []
            for entry in entries:
                key = f"{entry.channel.value}:{entry.key}"
                fresh = key not in stored
                answers.append(fresh)
                if fresh:
                    stored[key] = entry
                    await store.add(entry.job())
            self._database.committed = state
        return answers
