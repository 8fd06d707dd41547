"""Reminders on the fake and on every database: one message per key however often, and
however concurrently, its event comes; the message's primary key settles it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import attrs

from talia_core.conversations.contacts import Contact
from talia_core.conversations.conversation import Conversation
from talia_core.conversations.messages import Message, Template
from talia_core.conversations.reminders import Reminder, Reminders, reminder_consumer
from talia_core.conversations.vocabulary import (
    Channel,
    ChannelIdentity,
    IdentityKind,
    MessageType,
)
from talia_core.shared.clock import FakeClock
from talia_core.shared.events import DomainEvent
from talia_core.shared.pagination import PageRequest
from tests.conftest import UowFactory

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
TEMPLATE = Template("recordatorio_cita", "es")


async def a_whatsapp_conversation(uow_factory: UowFactory) -> Conversation:
    identity = ChannelIdentity(IdentityKind.WA_ID, "51987654321")
    contact = Contact(name="Ana", identities=[identity], created_at=NOW, updated_at=NOW)
    conversation = Conversation(
        contact_id=contact.id, channel=Channel.WHATSAPP, created_at=NOW, last_activity_at=NOW
    )
    async with uow_factory() as uow:
        await uow.contacts.add(contact)
        await uow.conversations.add(conversation)
        await uow.commit()
    return conversation


def reminder(conversation: Conversation, key: str = "appointment-1") -> Reminder:
    return Reminder(
        key=key,
        contact_id=conversation.contact_id,
        channel=Channel.WHATSAPP,
        text="Hola Ana, te recordamos tu cita. Responde SÍ para confirmar o NO para cancelar.",
        parameters=("Ana", "martes 3 de marzo, 09:00"),
    )


async def messages_of(uow_factory: UowFactory, conversation: Conversation) -> list[Message]:
    async with uow_factory(read_only=True) as uow:
        return list((await uow.messages.find(conversation.id, PageRequest())).items)


async def test_a_reminder_sent_again_sends_nothing_twice(uow_factory: UowFactory) -> None:
    conversation = await a_whatsapp_conversation(uow_factory)
    reminders = Reminders(uow_factory, FakeClock(NOW), templates={Channel.WHATSAPP: TEMPLATE})

    first = await reminders.send(reminder(conversation))
    again = await reminders.send(reminder(conversation))
    other = await reminders.send(reminder(conversation, key="appointment-2"))

    assert first is not None
    assert first.type is MessageType.TEMPLATE
    assert first.template == Template(
        "recordatorio_cita", "es", ("Ana", "martes 3 de marzo, 09:00")
    )
    assert again is None
    assert other is not None
    assert len(await messages_of(uow_factory, conversation)) == 2


async def test_two_deliveries_of_one_reminder_at_once_store_one_message(
    uow_factory: UowFactory,
) -> None:
    conversation = await a_whatsapp_conversation(uow_factory)
    reminders = Reminders(uow_factory, FakeClock(NOW), templates={})

    sent = await asyncio.gather(*(reminders.send(reminder(conversation)) for _ in range(2)))

    assert sum(message is not None for message in sent) == 1
    [message] = await messages_of(uow_factory, conversation)
    assert message.text is not None
    assert message.text.startswith("Hola Ana")


async def test_the_consumer_reminds_once_per_appointment_and_skips_what_names_no_contact(
    uow_factory: UowFactory,
) -> None:
    conversation = await a_whatsapp_conversation(uow_factory)
    reminders = Reminders(uow_factory, FakeClock(NOW), templates={Channel.WHATSAPP: TEMPLATE})
    consumer = reminder_consumer(reminders)
    data = {
        "appointment_id": "appointment-1",
        "contact_id": conversation.contact_id,
        "channel": "whatsapp",
        "text": "Hola Ana, te recordamos tu cita.",
        "parameters": ["Ana", "martes 3 de marzo, 09:00"],
    }

    for event in (
        DomainEvent("appointment.reminder_due", NOW, data),
        DomainEvent("appointment.reminder_due", NOW, data),  # the reminder job ran twice
        DomainEvent("appointment.reminder_due", NOW, {**data, "contact_id": None}),
    ):
        await consumer.handle(event)
        await consumer.handle(event)  # relayed twice

    assert len(await messages_of(uow_factory, conversation)) == 1


async def test_a_contact_without_a_conversation_on_the_channel_gets_nothing(
    uow_factory: UowFactory,
) -> None:
    conversation = await a_whatsapp_conversation(uow_factory)
    reminders = Reminders(uow_factory, FakeClock(NOW), templates={})

    sent = await reminders.send(attrs.evolve(reminder(conversation), channel=Channel.WEBCHAT))

    assert sent is None
    assert await messages_of(uow_factory, conversation) == []
