"""The leads context's wiring: its time zone, and its consumers among the outbox relay's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from zoneinfo import ZoneInfo

import httpx

from adapters.channels.chatwoot.desk import ChatwootAgentsDesk, ChatwootConversationApi
from adapters.persistence.leads.bookings import AppointmentBookings
from adapters.persistence.leads.criteria import DefinitionLeadCriteria
from adapters.resilience import BreakerBoard, resilient
from entrypoints.settings import Settings
from entrypoints.wiring.policies import runner
from talia_core.assistants.ports import AssistantsUnitOfWork
from talia_core.conversations.desk import AgentDesk
from talia_core.leads.bookings import LeadBookings
from talia_core.leads.consumers import booking_consumer, contact_consumer, desk_consumer
from talia_core.leads.desk import DeskAnnouncements
from talia_core.leads.ports import LeadsUnitOfWork
from talia_core.leads.services import LeadBook
from talia_core.scheduling.ports import SchedulingUnitOfWork
from talia_core.shared.clock import Clock
from talia_core.shared.outbox_relay import Consumer
from talia_core.shared.ports import UnitOfWorkFactory


class LeadSources(LeadsUnitOfWork, AssistantsUnitOfWork, SchedulingUnitOfWork, Protocol):
    """The leads read their criteria from the assistants' definitions and follow the
    scheduling's appointments, all in one database."""


def business_time_zone(settings: Settings) -> ZoneInfo:
    """The business's time zone (its calendar's): the dates customers write are read in it."""
    return ZoneInfo(settings.calendar.time_zone)


def lead_bookings(uow: UnitOfWorkFactory[LeadSources], clock: Clock) -> LeadBookings:
    """The leads following the appointments, read through the scheduling's storage."""
    return LeadBookings(uow, clock, DefinitionLeadCriteria(uow), AppointmentBookings(uow, clock))


def desk_announcements(
    settings: Settings,
    uow: UnitOfWorkFactory[LeadSources],
    clock: Clock,
    client: httpx.AsyncClient,
    board: BreakerBoard,
    conversations: AgentDesk,
) -> DeskAnnouncements | None:
    """Qualified leads labelled and noted on Chatwoot, behind a runner of their own (a note is
    never repeated by it: the job retries instead); None without a label to give."""
    label = settings.leads.chatwoot_label
    if not label:
        return None
    channels = settings.channels
    api = ChatwootConversationApi(
        client,
        base_url=channels.chatwoot_url,
        account_id=channels.chatwoot_account_id,
        api_access_token=channels.chatwoot_api_token.get_secret_value(),
    )
    through = resilient(
        api, runner("chatwoot-desk", board, settings), non_idempotent={"add_private_note"}
    )
    desk = ChatwootAgentsDesk(through, conversations)
    return DeskAnnouncements(uow, clock, DefinitionLeadCriteria(uow), desk, label=label)


def with_leads(
    consumers: Sequence[Consumer],
    leads: LeadBook,
    bookings: LeadBookings,
    announcements: DeskAnnouncements | None,
) -> list[Consumer]:
    """The relay's other consumers, the one that opens a lead when a contact writes, the
    one that books it when an appointment is made, and, with Chatwoot as the agents' desk,
    the one that points qualified leads out there."""
    leads_consumers = [contact_consumer(leads), booking_consumer(bookings)]
    if announcements is not None:
        leads_consumers.append(desk_consumer(announcements))
    return [*consumers, *leads_consumers]
