"""The leads context's wiring: its time zone, and its consumer among the outbox relay's."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from entrypoints.settings import Settings
from talia_core.leads.consumers import contact_consumer
from talia_core.leads.services import LeadBook
from talia_core.shared.outbox_relay import Consumer


def business_time_zone(settings: Settings) -> ZoneInfo:
    """The business's time zone (its calendar's): the dates customers write are read in it."""
    return ZoneInfo(settings.calendar.time_zone)


def with_leads(consumers: Sequence[Consumer], leads: LeadBook) -> list[Consumer]:
    """The relay's other consumers and the one that opens a lead when a contact writes."""
    return [*consumers, contact_consumer(leads)]
