"""The leads follow the contacts' appointments: booked while one is to come, qualified again
when the last one is cancelled.

Each booking or cancellation event is applied once (by its id), and what it does is read
from the appointments as they are when it runs, not from the event: a reschedule books the
new slot before cancelling the old one, and the two events may be handled in either order.
"""

from __future__ import annotations

from talia_core.leads.criteria import NO_CRITERIA
from talia_core.leads.model import Cause, Lead, Origin
from talia_core.leads.ports import Bookings, LeadCriteria, LeadsUnitOfWork
from talia_core.leads.services import lead_of, store
from talia_core.leads.stages import Stage, may_move
from talia_core.shared.clock import Clock
from talia_core.shared.ports import UnitOfWorkFactory

UNKNOWN_CHANNEL = "unknown"
"""The channel of a lead opened by an appointment booked with none (by an agent)."""


class LeadBookings:
    def __init__(
        self,
        uow: UnitOfWorkFactory[LeadsUnitOfWork],
        clock: Clock,
        criteria: LeadCriteria,
        bookings: Bookings,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._criteria = criteria
        self._bookings = bookings

    async def appointment_changed(self, event_id: str, appointment_id: str) -> Lead | None:
        """The lead of the appointment's contact (opened if it has none, in the business
        line of the assistant answering the appointment's channel) becomes ``booked`` while
        the contact holds an appointment to come, and ``qualified`` again from ``booked``
        when it holds none; None for an appointment of no contact, or an event applied
        already."""
        booking = await self._bookings.of_appointment(appointment_id)
        if booking is None or booking.contact_id is None:
            return None
        channel = booking.channel or UNKNOWN_CHANNEL
        policy = await self._criteria.of_channel(channel)
        criteria = policy.criteria if policy is not None else NO_CRITERIA
        now = self._clock.now()
        origin = Origin(Cause.APPOINTMENT, f"appointment:{appointment_id}")
        async with self._uow() as uow:
            if not await uow.leads.first_delivery(event_id, now):
                return None
            lead = await lead_of(uow, booking.contact_id, criteria, channel, now)
            # Read with the lead locked: of two events of one contact handled at once, the
            # later one sees what the earlier one saw, or newer.
            held = await self._bookings.any_to_come(booking.contact_id)
            changes = []
            if held and lead.stage is not Stage.BOOKED and may_move(lead.stage, Stage.BOOKED):
                reason = "an appointment was booked"
                changes.append(lead.move(Stage.BOOKED, reason=reason, origin=origin, at=now))
            elif not held and lead.stage is Stage.BOOKED:
                reason = "the appointment was cancelled"
                changes.append(lead.move(Stage.QUALIFIED, reason=reason, origin=origin, at=now))
            await store(uow, lead, changes)
            await uow.commit()
        return lead
