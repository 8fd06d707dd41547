"""``update_lead``: facts the customer stated, recorded on the lead of the conversation's
own contact and scored by the assistant's criteria.

The model names each fact as the assistant's ``leads`` criteria do and gives it in its
kind: a date as 2027-02-14, a count or an amount in céntimos as a whole number, a choice by
its key. A fact of the wrong type or an unknown one is answered as an error and nothing is
recorded; every fact recorded goes into the lead's history as this tool call's doing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from talia_core.assistants.language import ToolSpec
from talia_core.assistants.tools import ToolContext, ToolOutcome
from talia_core.leads.criteria import MAX_FACTS
from talia_core.leads.model import Cause, Origin
from talia_core.leads.services import LeadBook


class UpdateLead:
    spec = ToolSpec(
        name="update_lead",
        description="Record what the customer said about their event on their lead: each "
        "fact by its name (like wedding_date, guest_count, budget, plan, decision_maker), "
        "a date as YYYY-MM-DD, a count as a whole number, an amount in soles as whole "
        "céntimos (S/ 2,500 is 250000), a choice by its key. Only facts the customer "
        "stated; never guess.",
        parameters={
            "type": "object",
            "properties": {
                "facts": {
                    "type": "object",
                    "description": "Fact name to value.",
                    "additionalProperties": {"type": ["string", "integer"]},
                },
            },
            "required": ["facts"],
            "additionalProperties": False,
        },
    )
    acts = True

    def __init__(self, leads: LeadBook) -> None:
        self._leads = leads

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutcome:
        facts = arguments["facts"]
        if not facts or len(facts) > MAX_FACTS:
            return ToolOutcome.error(f"give between 1 and {MAX_FACTS} facts")
        lead = await self._leads.record_facts(
            context.contact_id,
            context.channel,
            facts,
            assistant=context.assistant,
            origin=Origin(Cause.TOOL_CALL, f"update_lead by {context.assistant}"),
        )
        return ToolOutcome.of(
            {"recorded": sorted(facts), "stage": lead.stage.value, "score": lead.score}
        )
