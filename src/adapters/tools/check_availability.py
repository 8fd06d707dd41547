"""``check_availability``: two or three concrete free slots to offer the customer, shown in
their time zone, spread over different days where the calendar allows.

Each slot carries ``starts_at`` (ISO 8601 with its offset): the value ``book_appointment``
takes for the slot the customer picks; ``options`` numbers them, so the customer may pick
one by its place («la segunda»), which ``book_appointment`` takes as ``option``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from talia_core.assistants.language import ToolSpec
from talia_core.assistants.tools import ToolContext, ToolOutcome
from talia_core.scheduling.model import TimeRange
from talia_core.scheduling.services import SchedulingService
from talia_core.scheduling.spoken import spoken

PARTS_OF_DAY = {"morning": (time(0), time(12)), "afternoon": (time(12), time(23, 59))}
MOST_DAYS = 14


def zone_named(name: str | None, default: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def slot_json(slot: TimeRange, zone: ZoneInfo) -> dict[str, Any]:
    local = slot.start.astimezone(zone)
    return {"starts_at": local.isoformat(), "when": spoken(local), "time_zone": zone.key}


def spread(slots: Sequence[TimeRange], zone: ZoneInfo, count: int) -> list[TimeRange]:
    """The first slot of each day first, then the next ones, soonest first: a choice of
    days rather than three neighbouring half hours."""
    firsts: dict[date, TimeRange] = {}
    for slot in slots:
        firsts.setdefault(slot.start.astimezone(zone).date(), slot)
    chosen = list(firsts.values())[:count]
    rest: Iterable[TimeRange] = (s for s in slots if s not in chosen)
    chosen += list(rest)[: count - len(chosen)]
    return sorted(chosen, key=lambda s: s.start)


class CheckAvailability:
    spec = ToolSpec(
        name="check_availability",
        description="Free appointment slots to offer the customer: two or three concrete "
        "times, in their time zone. Offer them as they come and book the one the customer "
        "picks with book_appointment, passing its starts_at unchanged (or its number in "
        "options as option).",
        parameters={
            "type": "object",
            "properties": {
                "from_date": {
                    "type": "string",
                    "pattern": r"^\d{4}-\d{2}-\d{2}$",
                    "description": "First day to look at, YYYY-MM-DD; today if absent.",
                },
                "days": {"type": "integer", "minimum": 1, "maximum": MOST_DAYS},
                "part_of_day": {"type": "string", "enum": sorted(PARTS_OF_DAY)},
                "count": {"type": "integer", "minimum": 2, "maximum": 3},
                "time_zone": {
                    "type": "string",
                    "maxLength": 64,
                    "description": "The customer's IANA zone if they are elsewhere.",
                },
            },
            "additionalProperties": False,
        },
    )
    acts = False

    def __init__(self, scheduling: SchedulingService) -> None:
        self._scheduling = scheduling

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutcome:
        rules = self._scheduling.rules
        zone = zone_named(arguments.get("time_zone"), rules.time_zone)
        if zone is None:
            return ToolOutcome.error("time_zone is not an IANA zone like America/Lima")
        business = rules.zone
        if "from_date" in arguments:
            try:
                first = date.fromisoformat(arguments["from_date"])
            except ValueError:
                return ToolOutcome.error("from_date is a date like 2026-03-03")
        else:
            first = self._scheduling.now().astimezone(business).date()
        start = datetime.combine(first, time(0), tzinfo=business)
        end = start + timedelta(days=arguments.get("days", 7))
        slots = await self._scheduling.availability(start, end)
        if "part_of_day" in arguments:
            since, until = PARTS_OF_DAY[arguments["part_of_day"]]
            slots = [s for s in slots if since <= s.start.astimezone(zone).time() < until]
        if not slots:
            return ToolOutcome.of({"slots": [], "note": "no free slot in those days"})
        chosen = [slot_json(s, zone) for s in spread(slots, zone, arguments.get("count", 3))]
        options = "\n".join(f"{n}) {slot['when']}" for n, slot in enumerate(chosen, 1))
        return ToolOutcome.of({"slots": chosen, "options": options})
