"""Appointment reminders: the template each channel sends them as, who sends them (a
consumer of the outbox relay's), and who reads the customer's answer to them."""

from __future__ import annotations

from entrypoints.settings import Settings
from entrypoints.wiring import notifications
from entrypoints.wiring.doorbell import Doorbell
from entrypoints.wiring.scheduling import reminder_lead
from talia_core.conversations.messages import Template
from talia_core.conversations.ports import ConversationsUnitOfWork
from talia_core.conversations.reminders import Reminders, reminder_consumer
from talia_core.conversations.vocabulary import Channel
from talia_core.notifications.ports import EventNotifier
from talia_core.scheduling.answers import ReminderAnswers
from talia_core.scheduling.services import SchedulingService
from talia_core.shared.clock import Clock
from talia_core.shared.outbox_relay import Consumer
from talia_core.shared.ports import UnitOfWorkFactory


def reminder_templates(settings: Settings) -> dict[Channel, Template]:
    """WhatsApp's templates when configured; a Twilio template is its Content SID and
    carries its own language."""
    config = settings.calendar
    templates: dict[Channel, Template] = {}
    if config.reminder_template:
        templates[Channel.WHATSAPP] = Template(
            config.reminder_template, config.reminder_template_language
        )
    if config.reminder_twilio_content_sid:
        templates[Channel.TWILIO] = Template(
            config.reminder_twilio_content_sid, config.reminder_template_language
        )
    return templates


def reminders(
    settings: Settings,
    uow: UnitOfWorkFactory[ConversationsUnitOfWork],
    clock: Clock,
    doorbell: Doorbell,
) -> Reminders:
    return Reminders(uow, clock, templates=reminder_templates(settings), wake=doorbell.ring)


def reminder_answers(settings: Settings, scheduling: SchedulingService) -> ReminderAnswers:
    return ReminderAnswers(scheduling, lead=reminder_lead(settings))


def event_consumers(
    settings: Settings, notifier: EventNotifier | None, sender: Reminders
) -> list[Consumer]:
    """The webhook's consumer (when configured) and the one that sends each reminder."""
    return [*notifications.event_consumers(settings, notifier), reminder_consumer(sender)]
