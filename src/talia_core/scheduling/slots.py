"""Free slots from the rules and the busy time: pure, and safe across daylight-saving changes.

Slots are laid out in wall-clock time of the calendar's zone and turned into UTC; a start
that does not exist that day (the hour skipped in spring) is left out, and an hour lived
twice (autumn) yields its first occurrence only.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta

from talia_core.scheduling.model import TimeRange
from talia_core.scheduling.schedule import ScheduleRules
from talia_core.shared.errors import RuleViolated


def _instant(rules: ScheduleRules, day: date, wall: time) -> datetime | None:
    """The UTC instant of a wall-clock time, or None when the clock skips it that day."""
    local = datetime.combine(day, wall, tzinfo=rules.zone)
    instant = local.astimezone(UTC)
    back = instant.astimezone(rules.zone)
    if (back.date(), back.time()) != (day, wall):
        return None
    return instant


def _opening(rules: ScheduleRules, day: date, opens: time, closes: time) -> TimeRange | None:
    start = datetime.combine(day, opens, tzinfo=rules.zone).astimezone(UTC)
    end = datetime.combine(day, closes, tzinfo=rules.zone).astimezone(UTC)
    return TimeRange(start, end) if start < end else None


def _starts(rules: ScheduleRules, day: date, duration: timedelta) -> Iterator[datetime]:
    """The UTC start of every slot of ``duration`` inside the opening hours of ``day``."""
    step = timedelta(minutes=rules.slot_minutes)
    for opens, closes in rules.hours_on(day):
        opening = _opening(rules, day, opens, closes)
        if opening is None:
            continue
        if opening.end - opening.start == datetime.combine(day, closes) - datetime.combine(
            day, opens
        ):
            # No clock change inside these hours: slots are plain steps of UTC time.
            start = opening.start
            while start + duration <= opening.end:
                yield start
                start += step
            continue
        wall = datetime.combine(day, opens)
        last = datetime.combine(day, closes)
        while wall < last:
            instant = _instant(rules, day, wall.time())
            if instant is not None:
                if instant + duration > opening.end:
                    break
                yield instant
            wall += step


def candidate_slots(rules: ScheduleRules, day: date, duration: timedelta) -> Iterator[TimeRange]:
    """Every slot of ``duration`` inside the opening hours of ``day``, ignoring busy time."""
    for start in _starts(rules, day, duration):
        yield TimeRange(start, start + duration)


class BusyTime:
    """Busy ranges merged into a sorted, disjoint union, answering overlap by bisection."""

    def __init__(self, ranges: Iterable[TimeRange]) -> None:
        merged: list[list[datetime]] = []
        for r in sorted(ranges, key=lambda r: r.start):
            if merged and r.start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], r.end)
            else:
                merged.append([r.start, r.end])
        self._starts = [m[0] for m in merged]
        self._ends = [m[1] for m in merged]

    def overlaps(self, start: datetime, end: datetime) -> bool:
        # The last merged range starting before ``end`` is the only one that can reach in.
        i = bisect_left(self._starts, end) - 1
        return i >= 0 and self._ends[i] > start


def booking_window(rules: ScheduleRules, now: datetime) -> TimeRange:
    """From the minimum notice to the horizon: when slots may start."""
    return TimeRange(
        now + timedelta(minutes=rules.minimum_notice_minutes),
        now + timedelta(days=rules.horizon_days),
    )


def local_days(rules: ScheduleRules, window: TimeRange) -> Iterator[date]:
    """Every date of the calendar's zone the window touches, and the day before it (its
    hours may run past midnight in UTC)."""
    day = window.start.astimezone(rules.zone).date() - timedelta(days=1)
    last = window.end.astimezone(rules.zone).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def free_slots(
    rules: ScheduleRules,
    busy: Sequence[TimeRange],
    window: TimeRange,
    *,
    now: datetime,
    duration_minutes: int | None = None,
) -> list[TimeRange]:
    """Slots starting inside ``window`` and the booking window, clear of busy time by the
    buffers, in order."""
    duration = timedelta(minutes=rules.duration(duration_minutes))
    allowed = booking_window(rules, now)
    earliest = max(window.start, allowed.start)
    latest = min(window.end, allowed.end)
    before = timedelta(minutes=rules.buffer_before_minutes)
    after = timedelta(minutes=rules.buffer_after_minutes)
    taken = BusyTime(busy)
    found: list[TimeRange] = []
    seen: set[datetime] = set()
    for day in local_days(rules, window):
        for start in _starts(rules, day, duration):
            if not earliest <= start < latest or start in seen:
                continue
            end = start + duration
            if taken.overlaps(start - before, end + after):
                continue
            seen.add(start)
            found.append(TimeRange(start, end))
    return found


def check_slot(
    rules: ScheduleRules, start: datetime, *, now: datetime, duration_minutes: int | None = None
) -> TimeRange:
    """The slot that starts at ``start``, or ``RuleViolated`` naming the rule it breaks."""
    duration = timedelta(minutes=rules.duration(duration_minutes))
    slot = TimeRange(start, start + duration)
    allowed = booking_window(rules, now)
    if slot.start < now:
        raise RuleViolated("the slot is in the past", {"starts_at": "in_the_past"})
    if slot.start < allowed.start:
        raise RuleViolated(
            f"the slot starts sooner than the minimum notice of "
            f"{rules.minimum_notice_minutes} minutes",
            {"starts_at": "minimum_notice"},
        )
    if slot.start >= allowed.end:
        raise RuleViolated(
            f"the slot is beyond the booking horizon of {rules.horizon_days} days",
            {"starts_at": "booking_horizon"},
        )
    day = slot.start.astimezone(rules.zone).date()
    openings = (_opening(rules, day, o, c) for o, c in rules.hours_on(day))
    inside = any(r is not None and r.start <= slot.start and slot.end <= r.end for r in openings)
    if not inside:
        raise RuleViolated("the slot is outside business hours", {"starts_at": "business_hours"})
    if slot not in candidate_slots(rules, day, duration):
        raise RuleViolated(
            f"slots start every {rules.slot_minutes} minutes from opening time",
            {"starts_at": "slot_grid"},
        )
    return slot
