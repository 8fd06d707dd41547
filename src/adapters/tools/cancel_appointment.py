"""``cancel_appointment``: one of the conversation's own contact's upcoming appointments,
cancelled. Without an id the customer's only upcoming appointment is meant; with several,
they are listed for the customer to say which."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.tools.check_availability import spoken
from talia_core.assistants.language import ToolSpec
from talia_core.assistants.tools import ToolContext, ToolOutcome
from talia_core.scheduling.model import AppointmentStatus
from talia_core.scheduling.services import SchedulingService
from talia_core.shared.pagination import PageRequest

LISTED = 10


class CancelAppointment:
    spec = ToolSpec(
        name="cancel_appointment",
        description="Cancel one of the customer's upcoming appointments, by its id; without "
        "an id, their only upcoming one (if they have several, they are listed: ask which).",
        parameters={
            "type": "object",
            "properties": {"appointment_id": {"type": "string", "maxLength": 36}},
            "additionalProperties": False,
        },
    )
    acts = True

    def __init__(self, scheduling: SchedulingService) -> None:
        self._scheduling = scheduling

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutcome:
        zone = self._scheduling.rules.zone
        appointment_id = arguments.get("appointment_id")
        if appointment_id is None:
            upcoming = [
                a
                for a in (
                    await self._scheduling.list_appointments(
                        PageRequest(limit=LISTED),
                        starts_from=self._scheduling.now(),
                        contact_id=context.contact_id,
                    )
                ).items
                if a.active
            ]
            if not upcoming:
                return ToolOutcome.of({"cancelled": False, "reason": "no upcoming appointment"})
            if len(upcoming) > 1:
                return ToolOutcome.of(
                    {
                        "cancelled": False,
                        "reason": "several upcoming appointments: ask which",
                        "appointments": [
                            {"appointment_id": a.id, "when": spoken(a.starts_at.astimezone(zone))}
                            for a in upcoming
                        ],
                    }
                )
            appointment_id = upcoming[0].id
        appointment = await self._scheduling.cancel(
            appointment_id, by=f"assistant:{context.assistant}", contact_id=context.contact_id
        )
        return ToolOutcome.of(
            {
                "cancelled": appointment.status is AppointmentStatus.CANCELLED,
                "appointment_id": appointment.id,
                "when": spoken(appointment.starts_at.astimezone(zone)),
            }
        )
