"""Reminders other contexts ask to send (``appointment.reminder_due``): one message in the
contact's conversation on the channel named, delivered like any reply and shown to agents.

A reminder is sent once per key however often its event comes: the message's id is
derived from the key, so the messages table's primary key refuses a second one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

import attrs

from talia_core.conversations.jobs import delivery
from talia_core.conversations.messages import Message, Template
from talia_core.conversations.ports import ConversationFilter, ConversationsUnitOfWork
from talia_core.conversations.vocabulary import Author, Channel, ConversationStatus
from talia_core.shared.clock import Clock
from talia_core.shared.errors import Conflict
from talia_core.shared.events import DomainEvent
from talia_core.shared.jobs import job_id_for
from talia_core.shared.outbox_relay import Consumer
from talia_core.shared.pagination import PageRequest
from talia_core.shared.ports import UnitOfWorkFactory

logger = logging.getLogger("talia.conversations")

REMINDERS_CONSUMER = "conversations.reminders"
REMINDER_DUE = "appointment.reminder_due"
"""An appointment comes soon (raised by the scheduling context): its contact is reminded."""


@attrs.frozen
class Reminder:
    """``text`` on channels that take free text; ``parameters`` fill the channel's template."""

    key: str
    contact_id: str
    channel: Channel
    text: str
    parameters: tuple[str, ...] = ()


def reminder_message_id(key: str) -> str:
    """The id of the one message a reminder's key may ever have."""
    return job_id_for(f"reminder:{key}")


class Reminders:
    """Sends reminders into the contact's latest conversation on the channel.

    ``templates`` names, per channel, the approved template a reminder goes out as (the
    WhatsApp Cloud API takes only templates more than 24 hours after the customer's last
    message); its parameters come with each reminder. Other channels get the text.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory[ConversationsUnitOfWork],
        clock: Clock,
        *,
        templates: Mapping[Channel, Template],
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._templates = dict(templates)
        self._wake = wake

    async def send(self, reminder: Reminder) -> Message | None:
        """The reminder's message; None when it was sent before or the contact has no
        conversation on the channel."""
        now = self._clock.now()
        try:
            async with self._uow() as uow:
                latest = await uow.conversations.find(
                    PageRequest(limit=1),
                    ConversationFilter(contact_id=reminder.contact_id, channel=reminder.channel),
                )
                if not latest.items:
                    logger.info(
                        "reminder %s not sent: contact %s has no %s conversation",
                        reminder.key,
                        reminder.contact_id,
                        reminder.channel.value,
                    )
                    return None
                conversation = await uow.conversations.get(latest.items[0].id)
                template = self._templates.get(reminder.channel)
                message = attrs.evolve(
                    Message.reply(
                        conversation,
                        author=Author.BOT,
                        at=now,
                        text=None if template else reminder.text,
                        template=attrs.evolve(template, parameters=reminder.parameters)
                        if template
                        else None,
                    ),
                    id=reminder_message_id(reminder.key),
                )
                await uow.messages.add(message)
                if conversation.status is not ConversationStatus.CLOSED:
                    conversation.record_reply(now)
                    await uow.conversations.update(conversation)
                await uow.jobs.add(delivery([message.id], now))
                await uow.commit()
        except Conflict:
            return None  # its message exists: sent already
        self._wake()
        return message


def reminder_consumer(reminders: Reminders) -> Consumer:
    async def handle(event: DomainEvent) -> None:
        data = event.data
        contact_id, channel = data.get("contact_id"), data.get("channel")
        if not contact_id or channel not in set(Channel):
            logger.info("reminder %s has no contact or channel to reach", event.id)
            return
        await reminders.send(
            Reminder(
                key=str(data["appointment_id"]),
                contact_id=str(contact_id),
                channel=Channel(channel),
                text=str(data["text"]),
                parameters=tuple(str(p) for p in data.get("parameters") or ()),
            )
        )

    return Consumer(REMINDERS_CONSUMER, frozenset({REMINDER_DUE}), handle)
