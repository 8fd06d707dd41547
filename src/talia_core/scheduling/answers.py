"""The customer's «sí» or «no» to a reminder: the appointment confirmed or cancelled."""

from __future__ import annotations

from datetime import timedelta

from talia_core.scheduling.model import AppointmentStatus
from talia_core.scheduling.reminders import (
    ReminderAnswer,
    acknowledgement,
    awaits_answer,
    read_answer,
)
from talia_core.scheduling.services import SchedulingService
from talia_core.shared.pagination import PageRequest

LOOKED_AT = 20
"""The contact's upcoming booked appointments read to find the reminded one."""


class ReminderAnswers:
    """Takes a contact's message as the answer to their reminder when it is one.

    Answers the conversation's ``AwaitedAnswers``: the acknowledgement to send, or None when
    nothing awaited this message (no reminded appointment unanswered, or not a «sí»/«no»)
    and the assistant answers as usual.
    """

    def __init__(self, scheduling: SchedulingService, *, lead: timedelta | None) -> None:
        """``lead``: how long before an appointment its reminder goes out; None sends none."""
        self._scheduling = scheduling
        self._lead = lead

    async def answer(self, contact_id: str, text: str) -> str | None:
        said = read_answer(text)
        if said is None or self._lead is None:
            return None
        now = self._scheduling.now()
        upcoming = await self._scheduling.list_appointments(
            PageRequest(limit=LOOKED_AT),
            starts_from=now,
            status=AppointmentStatus.BOOKED,
            contact_id=contact_id,
        )
        lead = self._lead
        reminded = next((a for a in upcoming.items if awaits_answer(a, lead, now)), None)
        if reminded is None:
            return None
        if said is ReminderAnswer.CONFIRM:
            settled = await self._scheduling.confirm(reminded.id, contact_id=contact_id)
        else:
            settled = await self._scheduling.cancel(
                reminded.id, by=f"contact:{contact_id}", contact_id=contact_id
            )
        return acknowledgement(said, settled, self._scheduling.rules.zone)
