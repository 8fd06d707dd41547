"""The outbox events the leads context reacts to."""

from __future__ import annotations

from datetime import datetime

from talia_core.leads.bookings import LeadBookings
from talia_core.leads.desk import DeskAnnouncements
from talia_core.leads.services import QUALIFIED_EVENT, LeadBook
from talia_core.shared.events import DomainEvent
from talia_core.shared.outbox_relay import Consumer

LEADS_CONSUMER = "leads.contacts"
MESSAGE_RECEIVED = "message.received"
"""A contact wrote (raised by the conversations context): its lead is opened or touched."""

BOOKINGS_CONSUMER = "leads.bookings"
APPOINTMENT_EVENTS = frozenset({"appointment.booked", "appointment.cancelled"})
"""An appointment was booked or cancelled (raised by the scheduling context): its contact's
lead follows."""

DESK_CONSUMER = "leads.desk"


def contact_consumer(leads: LeadBook) -> Consumer:
    async def handle(event: DomainEvent) -> None:
        data = event.data
        await leads.contact_wrote(
            event.id,
            str(data["contact_id"]),
            str(data["channel"]),
            datetime.fromisoformat(str(data["received_at"])),
            data.get("text"),
        )

    return Consumer(LEADS_CONSUMER, frozenset({MESSAGE_RECEIVED}), handle)


def booking_consumer(bookings: LeadBookings) -> Consumer:
    async def handle(event: DomainEvent) -> None:
        await bookings.appointment_changed(event.id, str(event.data["appointment_id"]))

    return Consumer(BOOKINGS_CONSUMER, APPOINTMENT_EVENTS, handle)


def desk_consumer(announcements: DeskAnnouncements) -> Consumer:
    """A qualified lead is pointed out on the agents' desk."""

    async def handle(event: DomainEvent) -> None:
        await announcements.qualified(event.id, str(event.data["lead_id"]))

    return Consumer(DESK_CONSUMER, frozenset({QUALIFIED_EVENT}), handle)
