"""The in-memory inbox: the same contract as the SQL one, one transaction per call."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from adapters.memory.database import InMemoryDatabase
from adapters.memory.jobs import InMemoryJobStore
from talia_core.conversations.model import InboxEntry
from talia_core.conversations.services import INBOX_JOB
from talia_core.shared.jobs import Job, job_id_for


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
                    await store.add(
                        Job.new(
                            INBOX_JOB,
                            entry.data,
                            at=entry.received_at,
                            job_id=job_id_for(f"inbox:{key}"),
                        )
                    )
            self._database.committed = state
        return answers

    def entries(self) -> list[InboxEntry]:
        return list(self._database.committed.table("inbox").values())
