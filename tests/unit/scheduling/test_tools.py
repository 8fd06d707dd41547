"""The booking tools: slots offered in the customer's zone, the chosen one booked for the
conversation's own contact, cancelled and rescheduled only among that contact's own."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import attrs
import pytest

from adapters.memory.database import InMemoryDatabase
from adapters.memory.scheduling import InMemoryCalendar
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.tools.book_appointment import BookAppointment
from adapters.tools.cancel_appointment import CancelAppointment
from adapters.tools.check_availability import CheckAvailability
from talia_core.assistants.language import ToolCall
from talia_core.assistants.tools import ToolCatalogue, ToolContext
from talia_core.conversations.contact_book import ContactBook
from talia_core.conversations.contacts import Contact
from talia_core.conversations.conversation import Conversation
from talia_core.conversations.desk import AgentDesk
from talia_core.conversations.tool_uses import ToolUse
from talia_core.conversations.vocabulary import Channel, ChannelIdentity, IdentityKind
from talia_core.scheduling.model import AppointmentStatus
from talia_core.scheduling.services import SchedulingService
from talia_core.shared.clock import FakeClock
from talia_core.shared.ids import new_id
from talia_core.shared.pagination import PageRequest
from tests.unit.scheduling.builders import NOW, lima_rules
from tests.unit.scheduling.test_slots import lima


@attrs.define
class Desk:
    scheduling: SchedulingService
    catalogue: ToolCatalogue
    database: InMemoryDatabase

    async def contact(self, name: str = "Ana Pérez") -> ToolContext:
        """A contact in a WhatsApp conversation of its own."""
        identity = ChannelIdentity(IdentityKind.WEBCHAT_SESSION, new_id())
        contact = Contact(name=name, identities=[identity], created_at=NOW, updated_at=NOW)
        conversation = Conversation(
            contact_id=contact.id,
            channel=Channel.WHATSAPP,
            created_at=NOW,
            last_activity_at=NOW,
        )
        async with InMemoryUnitOfWork(self.database) as uow:
            await uow.contacts.add(contact)
            await uow.conversations.add(conversation)
            await uow.commit()
        return ToolContext(conversation.id, contact.id, "whatsapp", "ventas")

    async def call(self, tool: str, context: ToolContext, **arguments: Any) -> Any:
        """What the tool answers, kept among the conversation's tool uses as a turn does."""
        call = ToolCall("call-1", tool, json.dumps(arguments))
        outcome = await self.catalogue.run(call, context, allowed=self.catalogue.names())
        use = ToolUse(
            conversation_id=context.conversation_id,
            at=NOW,
            assistant="ventas",
            assistant_version=1,
            tool=tool,
            arguments=call.arguments,
            output=outcome.output,
        )
        async with InMemoryUnitOfWork(self.database) as uow:
            await uow.tool_uses.add(use)
            await uow.commit()
        return json.loads(outcome.output)


@pytest.fixture
def desk() -> Desk:
    database = InMemoryDatabase()
    uow = partial(InMemoryUnitOfWork, database)
    scheduling = SchedulingService(uow, InMemoryCalendar(), lima_rules(), FakeClock(NOW))
    catalogue = ToolCatalogue(
        [
            CheckAvailability(scheduling),
            BookAppointment(
                scheduling, ContactBook(uow, FakeClock(NOW)), AgentDesk(uow, FakeClock(NOW))
            ),
            CancelAppointment(scheduling),
        ]
    )
    return Desk(scheduling, catalogue, database)


async def test_three_slots_are_offered_on_different_days_in_the_business_zone(
    desk: Desk,
) -> None:
    offered = await desk.call("check_availability", await desk.contact())

    starts = [datetime.fromisoformat(s["starts_at"]) for s in offered["slots"]]
    assert len(starts) == 3
    assert len({s.date() for s in starts}) == 3
    assert starts[0] == lima(2, 9)
    assert offered["slots"][0]["when"] == "lunes 2 de marzo, 09:00"
    assert starts[0].utcoffset() == timedelta(hours=-5)


async def test_slots_are_shown_in_the_customers_zone_and_part_of_day(desk: Desk) -> None:
    offered = await desk.call(
        "check_availability",
        await desk.contact(),
        time_zone="Europe/Madrid",
        part_of_day="afternoon",
        count=2,
    )

    assert len(offered["slots"]) == 2
    for slot in offered["slots"]:
        assert slot["time_zone"] == "Europe/Madrid"
        assert datetime.fromisoformat(slot["starts_at"]).hour >= 12


async def test_the_chosen_slot_is_booked_for_the_conversations_contact(desk: Desk) -> None:
    context = await desk.contact()
    [_, second, _] = (await desk.call("check_availability", context))["slots"]

    booked = await desk.call("book_appointment", context, starts_at=second["starts_at"])

    assert booked["booked"] is True
    appointment = await desk.scheduling.get(booked["appointment_id"])
    assert appointment.contact_id == context.contact_id
    assert appointment.customer_name == "Ana Pérez"
    assert appointment.channel == "whatsapp"
    assert appointment.starts_at == datetime.fromisoformat(second["starts_at"])


async def test_a_slot_taken_meanwhile_is_answered_with_an_instruction(desk: Desk) -> None:
    first, second = await desk.contact("Ana"), await desk.contact("Luis")
    await desk.call("book_appointment", first, starts_at=lima(3, 10).isoformat())

    again = await desk.call("book_appointment", second, starts_at=lima(3, 10).isoformat())

    assert again == {"booked": False, "reason": "slot_taken", "instruction": "offer other slots"}


async def test_a_slot_breaking_a_rule_is_answered_naming_it(desk: Desk) -> None:
    refused = await desk.call(
        "book_appointment", await desk.contact(), starts_at=lima(3, 22).isoformat()
    )

    assert "outside business hours" in refused["error"]


async def test_rescheduling_books_the_new_slot_and_cancels_the_old_one(desk: Desk) -> None:
    context = await desk.contact()
    old = await desk.call("book_appointment", context, starts_at=lima(3, 10).isoformat())

    moved = await desk.call(
        "book_appointment",
        context,
        starts_at=lima(4, 11).isoformat(),
        replaces=old["appointment_id"],
    )

    assert moved["cancelled"] == old["appointment_id"]
    old_one = await desk.scheduling.get(old["appointment_id"])
    assert old_one.status is AppointmentStatus.CANCELLED


async def test_someone_elses_appointment_can_be_neither_moved_nor_cancelled(desk: Desk) -> None:
    owner, stranger = await desk.contact("Ana"), await desk.contact("Luis")
    theirs = await desk.call("book_appointment", owner, starts_at=lima(3, 10).isoformat())

    moved = await desk.call(
        "book_appointment",
        stranger,
        starts_at=lima(4, 11).isoformat(),
        replaces=theirs["appointment_id"],
    )
    cancelled = await desk.call(
        "cancel_appointment", stranger, appointment_id=theirs["appointment_id"]
    )

    assert "error" in moved
    assert "error" in cancelled
    kept = await desk.scheduling.get(theirs["appointment_id"])
    assert kept.status is AppointmentStatus.BOOKED
    assert (await desk.scheduling.list_appointments(PageRequest())).total == 1


async def test_without_an_id_the_only_upcoming_appointment_is_cancelled(desk: Desk) -> None:
    context = await desk.contact()
    booked = await desk.call("book_appointment", context, starts_at=lima(3, 10).isoformat())

    cancelled = await desk.call("cancel_appointment", context)

    assert cancelled["cancelled"] is True
    assert cancelled["appointment_id"] == booked["appointment_id"]


async def test_with_several_upcoming_appointments_the_customer_is_asked_which(desk: Desk) -> None:
    context = await desk.contact()
    for day in (3, 4):
        await desk.call("book_appointment", context, starts_at=lima(day, 10).isoformat())

    answer = await desk.call("cancel_appointment", context)

    assert answer["cancelled"] is False
    assert [a["when"] for a in answer["appointments"]] == [
        "martes 3 de marzo, 10:00",
        "miércoles 4 de marzo, 10:00",
    ]


async def test_the_customer_picks_an_offered_slot_by_its_place(desk: Desk) -> None:
    context = await desk.contact()
    offered = await desk.call("check_availability", context)

    booked = await desk.call("book_appointment", context, option=2)

    assert offered["options"].splitlines()[1] == f"2) {offered['slots'][1]['when']}"
    appointment = await desk.scheduling.get(booked["appointment_id"])
    assert appointment.starts_at == datetime.fromisoformat(offered["slots"][1]["starts_at"])
    assert booked["when"] == offered["slots"][1]["when"]


async def test_a_place_with_no_offer_before_it_books_nothing(desk: Desk) -> None:
    context = await desk.contact()

    refused = await desk.call("book_appointment", context, option=2)

    assert "call check_availability" in refused["error"]
    assert (await desk.scheduling.list_appointments(PageRequest())).total == 0
