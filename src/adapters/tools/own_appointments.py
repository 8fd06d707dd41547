"""The customer's own upcoming appointments, as the tools that act on one of them find them:
without an id the only one is meant; with several, the customer is asked which."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from talia_core.assistants.tools import ToolOutcome
from talia_core.scheduling.model import Appointment
from talia_core.scheduling.services import SchedulingService
from talia_core.scheduling.spoken import spoken
from talia_core.shared.pagination import PageRequest

LISTED = 10
ONE_OF_OWN: dict[str, Any] = {
    "type": "object",
    "properties": {"appointment_id": {"type": "string", "maxLength": 36}},
    "additionalProperties": False,
}
"""The arguments of a tool acting on one of the customer's appointments: its id, or none."""


async def upcoming_own(scheduling: SchedulingService, contact_id: str) -> list[Appointment]:
    """The contact's appointments still to come and not cancelled, soonest first."""
    found = await scheduling.list_appointments(
        PageRequest(limit=LISTED), starts_from=scheduling.now(), contact_id=contact_id
    )
    return [a for a in found.items if a.active]


def which_one(scheduling: SchedulingService, upcoming: list[Appointment]) -> list[dict[str, Any]]:
    """The appointments to ask the customer to choose among, in the business's zone."""
    zone = scheduling.rules.zone
    return [
        {"appointment_id": a.id, "when": spoken(a.starts_at.astimezone(zone))} for a in upcoming
    ]


async def meant(
    scheduling: SchedulingService, arguments: Mapping[str, Any], contact_id: str, done: str
) -> str | ToolOutcome:
    """The id of the appointment the customer means: the one named, else their only
    upcoming one; else what to tell the model, ``done`` (``"confirmed"``, ``"cancelled"``)
    false with the reason and, when there are several, the list to ask from."""
    named = arguments.get("appointment_id")
    if named is not None:
        return str(named)
    upcoming = await upcoming_own(scheduling, contact_id)
    if not upcoming:
        return ToolOutcome.of({done: False, "reason": "no upcoming appointment"})
    if len(upcoming) > 1:
        return ToolOutcome.of(
            {
                done: False,
                "reason": "several upcoming appointments: ask which",
                "appointments": which_one(scheduling, upcoming),
            }
        )
    return upcoming[0].id
