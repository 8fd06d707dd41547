"""Free slots: inside hours, clear of busy time by the buffers, within notice and horizon,
and right across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from talia_core.scheduling.model import TimeRange
from talia_core.scheduling.schedule import ScheduleRules, parse_exceptions, parse_weekly_hours
from talia_core.scheduling.slots import check_slot, free_slots
from talia_core.shared.errors import RuleViolated
from tests.unit.scheduling.builders import NOW, lima_rules

LIMA = ZoneInfo("America/Lima")


def lima(day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Lima in March 2026, as a UTC instant."""
    return datetime(2026, 3, day, hour, minute, tzinfo=LIMA).astimezone(UTC)


def test_a_weekday_offers_every_half_hour_from_nine_to_the_last_that_ends_by_six() -> None:
    slots = free_slots(lima_rules(), [], TimeRange(lima(3, 0), lima(4, 0)), now=NOW)

    assert slots[0] == TimeRange(lima(3, 9), lima(3, 9, 30))
    assert slots[-1] == TimeRange(lima(3, 17, 30), lima(3, 18))
    assert len(slots) == 18


def test_saturday_closes_at_one_and_sunday_is_closed() -> None:
    slots = free_slots(lima_rules(), [], TimeRange(lima(7, 0), lima(9, 0)), now=NOW)

    assert [s.start.astimezone(LIMA).hour for s in slots][-1] == 12
    assert all(s.start.astimezone(LIMA).date() == date(2026, 3, 7) for s in slots)


def test_a_holiday_has_no_slots_and_a_short_day_only_its_hours() -> None:
    rules = lima_rules(exceptions=parse_exceptions("2026-03-03; 2026-03-04 10:00-11:00"))

    slots = free_slots(rules, [], TimeRange(lima(3, 0), lima(5, 0)), now=NOW)

    assert slots == [
        TimeRange(lima(4, 10), lima(4, 10, 30)),
        TimeRange(lima(4, 10, 30), lima(4, 11)),
    ]


def test_busy_time_and_its_buffers_take_slots_away() -> None:
    rules = lima_rules(buffer_before_minutes=10, buffer_after_minutes=10)
    busy = [TimeRange(lima(3, 11), lima(3, 11, 30))]

    starts = {
        s.start for s in free_slots(rules, busy, TimeRange(lima(3, 10), lima(3, 13)), now=NOW)
    }

    assert starts == {lima(3, 10), lima(3, 12), lima(3, 12, 30)}


def test_nothing_is_offered_sooner_than_the_notice_or_beyond_the_horizon() -> None:
    rules = lima_rules(minimum_notice_minutes=120, horizon_days=2)

    slots = free_slots(rules, [], TimeRange(lima(2, 0), lima(20, 0)), now=NOW)

    assert slots[0].start == lima(2, 10)
    assert slots[-1].start < NOW + timedelta(days=2)


def test_a_longer_duration_still_ends_by_closing_time() -> None:
    slots = free_slots(
        lima_rules(), [], TimeRange(lima(3, 0), lima(4, 0)), now=NOW, duration_minutes=90
    )

    assert slots[-1] == TimeRange(lima(3, 16, 30), lima(3, 18))


@pytest.mark.parametrize(
    ("start", "rule"),
    [
        (NOW - timedelta(hours=1), "in_the_past"),
        (lima(2, 8, 30), "minimum_notice"),
        (lima(2, 9) + timedelta(days=31), "booking_horizon"),
        (lima(3, 18), "business_hours"),
        (lima(8, 10), "business_hours"),
        (lima(3, 17, 45), "business_hours"),
        (lima(3, 10, 15), "slot_grid"),
    ],
)
def test_a_slot_that_breaks_a_rule_is_refused_naming_it(start: datetime, rule: str) -> None:
    with pytest.raises(RuleViolated) as refused:
        check_slot(lima_rules(), start, now=NOW)

    assert refused.value.fields == {"starts_at": rule}


def test_a_duration_off_the_five_minute_grid_is_refused() -> None:
    with pytest.raises(RuleViolated) as refused:
        check_slot(lima_rules(), lima(3, 10), now=NOW, duration_minutes=7)

    assert "duration" in refused.value.fields


def test_weekly_hours_are_read_from_text() -> None:
    weekly = parse_weekly_hours("mon-fri 09:00-13:00,14:00-18:00; sat 09:00-13:00")

    assert weekly[0] == ((time(9), time(13)), (time(14), time(18)))
    assert weekly[5] == ((time(9), time(13)),)
    assert 6 not in weekly


@pytest.mark.parametrize("text", ["lun 09:00-10:00", "mon 9-10", "mon 10:00-09:00"])
def test_unreadable_hours_are_refused(text: str) -> None:
    with pytest.raises(RuleViolated):
        parse_weekly_hours(text)


# ----------------------------------------------------------------------- properties

ZONES = ["America/Lima", "America/New_York", "Europe/Madrid", "Australia/Lord_Howe"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def rules_and_busy(draw: st.DrawFn) -> tuple[ScheduleRules, list[TimeRange], datetime]:
    opens = draw(st.integers(0, 20))
    closes = draw(st.integers(opens + 1, 23))
    rules = ScheduleRules(
        calendar_id="c",
        time_zone=draw(st.sampled_from(ZONES)),
        weekly={d: ((time(opens), time(closes, 30)),) for d in draw(st.sets(st.integers(0, 6)))},
        slot_minutes=draw(st.sampled_from([15, 30, 45, 60])),
        buffer_before_minutes=draw(st.sampled_from([0, 5, 15])),
        buffer_after_minutes=draw(st.sampled_from([0, 10, 30])),
        minimum_notice_minutes=draw(st.integers(0, 600)),
        horizon_days=draw(st.integers(1, 20)),
    )
    # Spread across the year so the daylight-saving changes of every zone come up.
    now = T0 + timedelta(minutes=draw(st.integers(0, 365 * 24 * 60)))
    busy = [
        TimeRange(s, s + timedelta(minutes=draw(st.integers(1, 240))))
        for s in (
            now + timedelta(minutes=m)
            for m in draw(st.lists(st.integers(-300, 20 * 24 * 60), max_size=20))
        )
    ]
    return rules, busy, now


@settings(max_examples=150, deadline=None)
@given(rules_and_busy(), st.sampled_from([None, 20, 60]))
def test_free_slots_keep_every_rule(
    case: tuple[ScheduleRules, list[TimeRange], datetime], duration: int | None
) -> None:
    rules, busy, now = case
    window = TimeRange(now - timedelta(days=1), now + timedelta(days=21))

    slots = free_slots(rules, busy, window, now=now, duration_minutes=duration)

    before = timedelta(minutes=rules.buffer_before_minutes)
    after = timedelta(minutes=rules.buffer_after_minutes)
    assert slots == sorted(slots, key=lambda s: s.start)
    assert len({s.start for s in slots}) == len(slots)
    for slot in slots:
        guarded = TimeRange(slot.start - before, slot.end + after)
        assert not any(guarded.overlaps(b) for b in busy)
        assert slot.start >= now + timedelta(minutes=rules.minimum_notice_minutes)
        assert slot.start < now + timedelta(days=rules.horizon_days)
        assert slot.end - slot.start == timedelta(minutes=duration or rules.slot_minutes)
        # Inside the opening hours of its day, read on the wall clock of the zone.
        local_start = slot.start.astimezone(rules.zone)
        local_end = slot.end.astimezone(rules.zone)
        [(opens, closes)] = rules.hours_on(local_start.date())
        assert local_end.date() == local_start.date()
        assert opens <= local_start.time()
        assert local_end.time() <= closes
        # Every offered slot is one the booking rules accept.
        assert check_slot(rules, slot.start, now=now, duration_minutes=duration) == slot
