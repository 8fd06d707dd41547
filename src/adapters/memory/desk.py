"""A fake ``AgentsDesk`` for tests: the desk's conversations held in dicts.

``FakeAgentsDesk`` passes the ``AgentsDesk`` contract suite
(``tests/contracts/leads/agents_desk.py``):

    desk = FakeAgentsDesk()
    desk.open_conversation("contact-1")  # the contact now has a conversation on the desk
    desk.labels["contact-1"]             # its labels, in the order they were added
    desk.notes["contact-1"]              # its private notes, in order
"""

from __future__ import annotations


class FakeAgentsDesk:
    def __init__(self) -> None:
        self.labels: dict[str, list[str]] = {}
        self.notes: dict[str, list[str]] = {}

    def open_conversation(self, contact_id: str) -> None:
        self.labels.setdefault(contact_id, [])
        self.notes.setdefault(contact_id, [])

    async def label(self, contact_id: str, label: str) -> bool:
        labels = self.labels.get(contact_id)
        if labels is None:
            return False
        if label not in labels:
            labels.append(label)
        return True

    async def note(self, contact_id: str, text: str) -> bool:
        notes = self.notes.get(contact_id)
        if notes is None:
            return False
        notes.append(text)
        return True
