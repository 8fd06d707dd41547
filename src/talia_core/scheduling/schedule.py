"""A calendar's booking rules held as data: weekly hours, exceptions, zone, lengths, limits."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from talia_core.shared.errors import RuleViolated

GRANULARITY_MINUTES = 5
"""Slot lengths, durations and buffers are whole multiples of this; so are stored claims."""
LONGEST_APPOINTMENT_MINUTES = 8 * 60

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Hours = tuple[tuple[time, time], ...]
"""Opening intervals of one day, wall-clock times in the calendar's zone; empty = closed."""


def _intervals(field: str, hours: Hours) -> Hours:
    ordered = tuple(sorted(hours))
    for opens, closes in ordered:
        if closes <= opens:
            raise RuleViolated(
                f"{field}: {opens} to {closes} closes before it opens",
                {field: "closes before opening"},
            )
    for (_, closes), (opens, _) in pairwise(ordered):
        if opens < closes:
            raise RuleViolated(f"{field}: opening hours overlap", {field: "overlapping hours"})
    return ordered


def _multiple(field: str, minutes: int, *, least: int) -> int:
    if minutes < least or minutes % GRANULARITY_MINUTES:
        raise RuleViolated(
            f"{field} must be a multiple of {GRANULARITY_MINUTES} minutes, at least {least}",
            {field: "not a multiple of 5 minutes" if minutes >= least else "too small"},
        )
    return minutes


@attrs.frozen
class ScheduleRules:
    """When a calendar takes appointments.

    ``weekly`` maps a weekday (0 = Monday) to its opening hours; ``exceptions`` replaces the
    hours of single dates (a holiday is a date with no hours). Slots start every
    ``slot_minutes`` from each opening time; an appointment keeps ``buffer_before`` and
    ``buffer_after`` minutes clear of other busy time; nothing is booked sooner than
    ``minimum_notice_minutes`` from now nor later than ``horizon_days`` ahead.
    """

    calendar_id: str
    time_zone: str
    weekly: Mapping[int, Hours]
    exceptions: Mapping[date, Hours] = attrs.field(factory=dict)
    slot_minutes: int = 30
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    minimum_notice_minutes: int = 60
    horizon_days: int = 60

    def __attrs_post_init__(self) -> None:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise RuleViolated(
                f"unknown time zone {self.time_zone!r}", {"time_zone": "unknown"}
            ) from None
        for day in self.weekly:
            if day not in range(7):
                raise RuleViolated(f"weekday {day} is not 0 (Monday) to 6", {"weekly": "bad day"})
        object.__setattr__(
            self, "weekly", {d: _intervals("weekly", h) for d, h in self.weekly.items()}
        )
        object.__setattr__(
            self,
            "exceptions",
            {d: _intervals("exceptions", h) for d, h in self.exceptions.items()},
        )
        _multiple("slot_minutes", self.slot_minutes, least=GRANULARITY_MINUTES)
        _multiple("buffer_before_minutes", self.buffer_before_minutes, least=0)
        _multiple("buffer_after_minutes", self.buffer_after_minutes, least=0)
        if self.minimum_notice_minutes < 0:
            raise RuleViolated(
                "minimum_notice_minutes must not be negative",
                {"minimum_notice_minutes": "negative"},
            )
        if self.horizon_days < 1:
            raise RuleViolated("horizon_days must be at least 1", {"horizon_days": "too small"})

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def hours_on(self, day: date) -> Hours:
        if day in self.exceptions:
            return self.exceptions[day]
        return self.weekly.get(day.weekday(), ())

    def duration(self, minutes: int | None) -> int:
        """The length asked for, or one slot; refused unless a whole number of 5 minutes."""
        if minutes is None:
            return self.slot_minutes
        if minutes > LONGEST_APPOINTMENT_MINUTES:
            raise RuleViolated(
                f"duration must be at most {LONGEST_APPOINTMENT_MINUTES} minutes",
                {"duration": "too long"},
            )
        return _multiple("duration", minutes, least=GRANULARITY_MINUTES)


_DAY_SPEC = re.compile(
    r"^(?P<days>[a-z]{3}(?:-[a-z]{3})?(?:,[a-z]{3}(?:-[a-z]{3})?)*)\s+(?P<hours>.+)$"
)
_INTERVAL = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def _interval(field: str, text: str) -> tuple[time, time]:
    found = _INTERVAL.match(text.strip())
    try:
        if found is None:
            raise ValueError(text)
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        return time(h1, m1), time(h2, m2)
    except ValueError:
        raise RuleViolated(
            f"{field}: {text.strip()!r} is not hours like 09:00-13:00", {field: "bad hours"}
        ) from None


def parse_weekly_hours(text: str) -> dict[int, Hours]:
    """``"mon-fri 09:00-18:00; sat 09:00-13:00"``: days or day ranges, then intervals."""
    weekly: dict[int, list[tuple[time, time]]] = {}
    for part in filter(None, (p.strip() for p in text.lower().split(";"))):
        found = _DAY_SPEC.match(part)
        if found is None:
            raise RuleViolated(
                f"business hours: {part!r} is not like 'mon-fri 09:00-18:00'",
                {"business_hours": "bad format"},
            )
        days: list[int] = []
        for span in found["days"].split(","):
            first, _, last = span.partition("-")
            if first not in WEEKDAYS or (last and last not in WEEKDAYS):
                raise RuleViolated(
                    f"business hours: unknown day in {span!r}", {"business_hours": "bad day"}
                )
            start, end = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
            days.extend(range(start, end + 1))
        intervals = [_interval("business_hours", h) for h in found["hours"].split(",")]
        for day in days:
            weekly.setdefault(day, []).extend(intervals)
    return {day: _intervals("business_hours", tuple(h)) for day, h in weekly.items()}


def parse_exceptions(text: str) -> dict[date, Hours]:
    """``"2026-12-25; 2026-12-24 09:00-13:00"``: a date alone is closed all day."""
    exceptions: dict[date, Hours] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        day_text, _, hours = part.partition(" ")
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            raise RuleViolated(
                f"closed days: {day_text!r} is not a date like 2026-12-25",
                {"closed_days": "bad date"},
            ) from None
        exceptions[day] = tuple(_interval("closed_days", h) for h in hours.split(",") if h.strip())
    return exceptions
