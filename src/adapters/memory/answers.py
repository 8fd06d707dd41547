"""A fake of the conversations' ``AwaitedAnswers``: it passes the contract suite
(``tests/contracts/conversations/awaited_answers.py``) that scheduling's ``ReminderAnswers``
passes, so pipeline tests need no appointments:

    answers = FakeAwaitedAnswers()
    answers.await_answer(contact_id, {"sí": "¡Gracias!"})  # what the contact may answer
    ...
    answers.settled     # (contact id, text) of every answer taken, in order
"""

from __future__ import annotations

from collections.abc import Mapping


class FakeAwaitedAnswers:
    """Awaits, per contact, one of the answers given; the first that comes is acknowledged
    and ends the wait."""

    def __init__(self) -> None:
        self._awaited: dict[str, dict[str, str]] = {}
        self.settled: list[tuple[str, str]] = []

    def await_answer(self, contact_id: str, acknowledgements: Mapping[str, str]) -> None:
        """``acknowledgements``: each answer the contact may give and what it is answered."""
        self._awaited[contact_id] = dict(acknowledgements)

    async def answer(self, contact_id: str, text: str) -> str | None:
        waiting = self._awaited.get(contact_id, {})
        if text not in waiting:
            return None
        del self._awaited[contact_id]
        self.settled.append((contact_id, text))
        return waiting[text]
