"""``cancel_appointment``: one of the conversation's own contact's upcoming appointments,
cancelled. Without an id the customer's only upcoming appointment is meant; with several,
they are listed for the customer to say which."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.tools.own_appointments import ONE_OF_OWN, meant
from talia_core.assistants.language import ToolSpec
from talia_core.assistants.tools import ToolContext, ToolOutcome
from talia_core.scheduling.model import AppointmentStatus
from talia_core.scheduling.services import SchedulingService
from talia_core.scheduling.spoken import spoken


class CancelAppointment:
    spec = ToolSpec(
        name="cancel_appointment",
        description="Cancel one of the customer's upcoming appointments, by its id; without "
        "an id, their only upcoming one (if they have several, they are listed: ask which).",
        parameters=ONE_OF_OWN,
    )
    acts = True

    def __init__(self, scheduling: SchedulingService) -> None:
        self._scheduling = scheduling

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutcome:
        zone = self._scheduling.rules.zone
        appointment_id = await meant(self._scheduling, arguments, context.contact_id, "cancelled")
        if isinstance(appointment_id, ToolOutcome):
            return appointment_id
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
