"""Calling windows on the callee's clock: exact UTC intervals across DST gaps, folds, midnights."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.facts import campaign_window
from compliance.schedule import (
    Schedule,
    clock_for,
    first_common_open,
    local_span_to_utc,
    span,
    weekly_hours,
)
from tests.compliance.oracle import all_open, first_open_by_minutes, open_at

DST_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/Berlin",
    "Europe/London",
    "Australia/Lord_Howe",  # 30-minute DST
    "America/Santiago",  # changes at midnight
    "America/Havana",  # changes at midnight
)
FIXED_ZONES = ("Europe/Moscow", "Asia/Vladivostok", "Asia/Kolkata", "Asia/Kathmandu")
ZONES = DST_ZONES + FIXED_ZONES
# Transition days (UTC dates) in 2025 for the DST zones above, and neighbours.
EDGE_DAYS = (
    date(2025, 3, 9),
    date(2025, 11, 2),
    date(2025, 3, 30),
    date(2025, 10, 26),
    date(2025, 4, 6),
    date(2025, 9, 7),
    date(2025, 3, 16),
    date(2025, 11, 3),
)
FEDERAL = Schedule("t.hours", weekly_hours(span("08:00", "21:00")))
NIGHT = Schedule("t.night", weekly_hours(((0, 150), (90, 180))))  # 00:00–03:00, spans DST gaps


def _instants(day: date, step_s: int = 600) -> list[float]:
    start = datetime.combine(day, datetime.min.time(), UTC).timestamp() - 86_400
    return [start + k * step_s for k in range(3 * 86_400 // step_s)]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("schedule", [FEDERAL, NIGHT], ids=["08-21", "00-03"])
def test_clock_matches_the_wall_clock_on_transition_days(zone: str, schedule: Schedule) -> None:
    clock = clock_for(schedule, zone)
    assert clock is not None
    for day in EDGE_DAYS:
        for ts in _instants(day):
            assert clock.is_open(ts) == open_at(schedule, zone, ts), (zone, day, ts)


def test_spring_forward_gap_starts_the_window_at_the_transition() -> None:
    # 2025-03-09 America/New_York: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
    tz = ZoneInfo("America/New_York")
    got = local_span_to_utc(tz, date(2025, 3, 9), 150, 240)  # 02:30–04:00 local
    start = datetime(2025, 3, 9, 7, 0, tzinfo=UTC).timestamp()  # 03:00 EDT, first wall >= 02:30
    end = datetime(2025, 3, 9, 8, 0, tzinfo=UTC).timestamp()  # 04:00 EDT
    assert got == [(start, end)]


def test_fall_back_fold_gives_two_intervals() -> None:
    # 2025-11-02 America/New_York: 02:00 EDT falls back to 01:00 EST (06:00 UTC).
    tz = ZoneInfo("America/New_York")
    got = local_span_to_utc(tz, date(2025, 11, 2), 90, 180)  # 01:30–03:00 local
    first = (datetime(2025, 11, 2, 5, 30, tzinfo=UTC).timestamp(), 6 * 3600.0)
    assert got[0][0] == first[0]
    assert got[0][1] == datetime(2025, 11, 2, 6, 0, tzinfo=UTC).timestamp()
    assert got[1] == (
        datetime(2025, 11, 2, 6, 30, tzinfo=UTC).timestamp(),
        datetime(2025, 11, 2, 8, 0, tzinfo=UTC).timestamp(),
    )


def test_moscow_has_no_dst_all_year() -> None:
    clock = clock_for(FEDERAL, "Europe/Moscow")
    assert clock is not None
    for month in range(1, 13):
        opens = datetime(2025, month, 10, 5, 0, tzinfo=UTC).timestamp()  # 08:00 MSK (UTC+3)
        assert clock.span_at(opens - 1) == (opens, opens + 13 * 3600)


@settings(max_examples=60, deadline=None)
@given(
    zones=st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True),
    day=st.sampled_from(EDGE_DAYS),
    offset_min=st.integers(0, 3 * 1440),
    start_h=st.integers(0, 20),
    length_h=st.integers(1, 10),
    days=st.lists(st.sampled_from(("mon", "tue", "wed", "thu", "fri", "sat", "sun")), min_size=1),
)
def test_first_common_open_is_exact(
    zones: list[str], day: date, offset_min: int, start_h: int, length_h: int, days: list[str]
) -> None:
    end_h = min(24, start_h + length_h)
    window = campaign_window(days, f"{start_h:02d}:00", f"{end_h:02d}:00")
    pairs = [(window, z) for z in zones] + [(FEDERAL, z) for z in zones]
    clocks = [c for s, z in pairs if (c := clock_for(s, z)) is not None]
    t0 = datetime.combine(day, datetime.min.time(), UTC).timestamp() - 86_400 + offset_min * 60
    got = first_common_open(clocks, t0, 9 * 86_400)
    want = first_open_by_minutes(pairs, t0, t0 + 9 * 86_400)
    assert got == want
    if got is not None:
        assert all_open(pairs, got)


def test_next_open_crosses_weekend_and_holiday() -> None:
    # Friday 2025-07-03 20:30 New York, campaign Mon–Fri 09–17 closed on US holidays:
    # Friday July 4th is a holiday, the weekend is closed → Monday July 7th 09:00 EDT.
    window = campaign_window(("mon", "tue", "wed", "thu", "fri"), "09:00", "17:00",
                             holiday_country="US")  # fmt: skip
    clock = clock_for(window, "America/New_York")
    assert clock is not None
    t0 = datetime(2025, 7, 3, 20, 30, tzinfo=ZoneInfo("America/New_York")).timestamp()
    got = first_common_open([clock], t0, 30 * 86_400)
    assert got == datetime(2025, 7, 7, 9, 0, tzinfo=ZoneInfo("America/New_York")).timestamp()


def test_a_schedule_that_never_opens_gives_none() -> None:
    closed = Schedule("t.closed", weekly_hours(()))
    clock = clock_for(closed, "Europe/Berlin")
    assert clock is not None
    assert first_common_open([clock], 0.0, 30 * 86_400) is None
    assert clock.span_at(datetime(2025, 1, 1, tzinfo=UTC).timestamp()) is None


def test_disjoint_zones_never_overlap() -> None:
    # 08–10 local in New York and in Tokyo never overlap (13–14 h apart).
    short = Schedule("t.short", weekly_hours(span("08:00", "10:00")))
    clocks = [clock_for(short, "America/New_York"), clock_for(short, "Asia/Tokyo")]
    t0 = datetime(2025, 6, 1, tzinfo=UTC).timestamp()
    assert first_common_open([c for c in clocks if c], t0, 20 * 86_400) is None


def test_unknown_zone_has_no_clock() -> None:
    assert clock_for(FEDERAL, "Mars/Olympus_Mons") is None


def test_week_of_buckets_is_cached_consistently() -> None:
    clock = clock_for(FEDERAL, "America/Chicago")
    assert clock is not None
    t0 = datetime(2025, 3, 7, tzinfo=UTC).timestamp()
    for k in range(0, 4 * 86_400, 97):  # an odd step lands inside buckets, twice over
        ts = t0 + k
        assert clock.is_open(ts) == open_at(FEDERAL, "America/Chicago", ts)
        assert clock.is_open(ts) == open_at(FEDERAL, "America/Chicago", ts)
    assert timedelta(seconds=1)
