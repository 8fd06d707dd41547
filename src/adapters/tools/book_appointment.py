"""``book_appointment``: the slot the customer picked, booked for the conversation's own
contact on the conversation's channel; with ``replaces``, a reschedule: the new slot is
booked first, then the customer's old appointment is cancelled.

The slot is its ``starts_at``, or its place (``option``) among the slots the latest
``check_availability`` of the conversation offered: the very slots the customer was shown,
read back from the tool uses the conversation keeps.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from adapters.tools.check_availability import CheckAvailability
from talia_core.assistants.language import ToolSpec
from talia_core.assistants.tools import ToolContext, ToolOutcome
from talia_core.conversations.contact_book import ContactBook
from talia_core.conversations.desk import AgentDesk
from talia_core.scheduling.errors import SlotTaken
from talia_core.scheduling.services import SchedulingService
from talia_core.scheduling.spoken import spoken
from talia_core.shared.pagination import PageRequest

OFFERS_READ = 20
"""How far back in the conversation's tool uses the latest offer of slots is looked for."""


class BookAppointment:
    spec = ToolSpec(
        name="book_appointment",
        description="Book the slot the customer chose: its starts_at as check_availability "
        "gave it, or its number among the options last offered as option. If it was taken "
        "meanwhile, offer other slots. To move one of the customer's appointments, pass its "
        "id as replaces.",
        parameters={
            "type": "object",
            "properties": {
                "starts_at": {"type": "string", "minLength": 16, "maxLength": 40},
                "option": {"type": "integer", "minimum": 1, "maximum": 3},
                "note": {"type": "string", "maxLength": 500},
                "replaces": {"type": "string", "maxLength": 36},
            },
            "additionalProperties": False,
        },
    )
    acts = True

    def __init__(
        self, scheduling: SchedulingService, contacts: ContactBook, desk: AgentDesk
    ) -> None:
        self._scheduling = scheduling
        self._contacts = contacts
        self._desk = desk

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutcome:
        chosen = arguments.get("starts_at")
        if "option" in arguments:
            chosen = await self._offered(context.conversation_id, arguments["option"])
            if chosen is None:
                return ToolOutcome.error(
                    f"option {arguments['option']} was not offered: call check_availability"
                )
        if chosen is None:
            return ToolOutcome.error("give starts_at or option")
        try:
            starts_at = datetime.fromisoformat(chosen)
        except ValueError:
            return ToolOutcome.error("starts_at is the value check_availability gave")
        if starts_at.tzinfo is None:
            return ToolOutcome.error("starts_at needs its offset, as check_availability gave it")
        replaced = arguments.get("replaces")
        if replaced is not None:
            # Only the customer's own appointment may be moved: anyone else's is not found.
            await self._scheduling.get_own(replaced, contact_id=context.contact_id)
        contact = await self._contacts.contact(context.contact_id)
        try:
            appointment = await self._scheduling.book(
                starts_at=starts_at,
                contact_id=context.contact_id,
                customer_name=contact.name,
                channel=context.channel,
                note=arguments.get("note"),
                booked_by=f"assistant:{context.assistant}",
            )
        except SlotTaken:
            return ToolOutcome.of(
                {"booked": False, "reason": "slot_taken", "instruction": "offer other slots"}
            )
        answer: dict[str, Any] = {
            "booked": True,
            "appointment_id": appointment.id,
            "starts_at": starts_at.isoformat(),
            "when": spoken(appointment.starts_at.astimezone(starts_at.tzinfo)),
        }
        if replaced is not None:
            await self._scheduling.cancel(
                replaced, by=f"assistant:{context.assistant}", contact_id=context.contact_id
            )
            answer["cancelled"] = replaced
        return ToolOutcome.of(answer)

    async def _offered(self, conversation_id: str, option: int) -> str | None:
        """The ``starts_at`` of the slot at ``option`` in the latest offer, if there is one."""
        uses = await self._desk.tool_uses(conversation_id, PageRequest(limit=OFFERS_READ))
        for use in uses.items:
            if use.tool != CheckAvailability.spec.name:
                continue
            try:
                slots = json.loads(use.output).get("slots", [])
            except (ValueError, AttributeError):
                return None
            if not 1 <= option <= len(slots):
                return None
            starts_at = slots[option - 1].get("starts_at")
            return starts_at if isinstance(starts_at, str) else None
        return None
