"""The fake agents' desk passes the desk contract."""

from __future__ import annotations

import pytest

from adapters.memory.desk import FakeAgentsDesk
from tests.contracts.leads.agents_desk import AgentsDeskContract


class FakeDeskHarness:
    def __init__(self) -> None:
        self.desk = FakeAgentsDesk()

    async def open_conversation(self, contact_id: str, labels: list[str]) -> None:
        self.desk.open_conversation(contact_id)
        self.desk.labels[contact_id].extend(labels)

    def labels(self, contact_id: str) -> list[str]:
        return self.desk.labels.get(contact_id, [])

    def notes(self, contact_id: str) -> list[str]:
        return self.desk.notes.get(contact_id, [])


class FakeAgentsDeskTests(AgentsDeskContract):
    @pytest.fixture
    def harness(self) -> FakeDeskHarness:
        return FakeDeskHarness()
