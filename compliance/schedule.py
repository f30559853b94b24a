"""Calling schedules on a local wall clock and their exact UTC open intervals (pure, no IO).

A `Schedule` is data: opening hours per weekday in local time, half-open `[start, end)` minutes,
plus what holidays do. A `ZoneClock` puts one schedule on one IANA zone's clock and answers, for an
instant, the UTC interval that contains it or the next one, exactly across DST gaps and folds
(the set of instants whose local wall time is inside the hours, computed offset by offset).
`first_common_open` intersects several clocks: the first instant at which all of them are open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

MINUTES_PER_DAY = 1440
BUCKET_S = 900  # UTC offsets and DST changes fall on whole seconds; buckets are checked exactly
_MISSING = date.min
HORIZON_DAYS = 400
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Span = tuple[int, int]  # local minutes of the day, [start, end)
Hours = tuple[Span, ...]
Interval = tuple[float, float]  # UTC epoch seconds, [start, end)


def parse_hhmm(text: str) -> int:
    """'08:30' → 510 minutes; '24:00' is the end of the day."""
    hh, mm = text.split(":")
    minutes = int(hh) * 60 + int(mm)
    if not 0 <= minutes <= MINUTES_PER_DAY:
        raise ValueError(f"time of day out of range: {text!r}")
    return minutes


def fmt_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def fmt_hours(hours: Hours) -> str:
    if not hours:
        return "closed"
    return ", ".join(f"{fmt_hhmm(a)}–{fmt_hhmm(b)}" for a, b in hours)


@dataclass(frozen=True, eq=False)
class Schedule:
    """Opening hours on a local clock; `zone=None` means the callee's clock (every candidate)."""

    rule: str
    weekly: tuple[Hours, ...]  # Monday first, seven entries
    source: str = ""
    holiday_hours: Hours | None = None  # None: holidays are ordinary days
    holiday_country: str | None = None
    holiday_subdiv: str | None = None
    closed_dates: frozenset[date] = frozenset()
    zone: str | None = None
    _key: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError(f"{self.rule}: weekly hours need 7 entries, got {len(self.weekly)}")

    def hours_on(self, day: date) -> tuple[Hours, str | None]:
        """The local hours on `day` and, when a holiday or closed date decided them, its name."""
        if day in self.closed_dates:
            return (), f"{day.isoformat()} is a campaign closed date"
        if self.holiday_hours is not None and self.holiday_country:
            name = holiday_name(self.holiday_country, self.holiday_subdiv, day)
            if name is not None:
                where = self.holiday_country + (
                    f"-{self.holiday_subdiv}" if self.holiday_subdiv else ""
                )
                return self.holiday_hours, f"{day.isoformat()} is a holiday in {where} ({name})"
        return self.weekly[day.weekday()], None


def weekly_hours(
    weekdays: Hours, saturday: Hours | None = None, sunday: Hours | None = None
) -> tuple[Hours, ...]:
    """Seven days of hours: Mon–Fri `weekdays`, Saturday and Sunday default to the same."""
    sat = weekdays if saturday is None else saturday
    sun = sat if sunday is None else sunday
    return (weekdays, weekdays, weekdays, weekdays, weekdays, sat, sun)


def span(start: str, end: str) -> Hours:
    """One local interval, e.g. span('08:00', '21:00')."""
    return ((parse_hhmm(start), parse_hhmm(end)),)


def days_hours(days: Sequence[str], hours: Hours) -> tuple[Hours, ...]:
    """Seven entries: `hours` on the named days ('mon'..'sun'), closed on the others."""
    wanted = {d.lower()[:3] for d in days}
    unknown = wanted - set(WEEKDAYS)
    if unknown:
        raise ValueError(f"unknown weekday(s): {sorted(unknown)}")
    return tuple(hours if name in wanted else () for name in WEEKDAYS)


@lru_cache(maxsize=256)
def _calendar(country: str, subdiv: str | None) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdiv)


def holiday_name(country: str, subdiv: str | None, day: date) -> str | None:
    """The public holiday on `day` in `country` (and subdivision), from the `holidays` package."""
    name = _calendar(country, subdiv).get(day)
    return None if name is None else str(name)


@lru_cache(maxsize=1024)
def zone_info(name: str) -> ZoneInfo | None:
    """The IANA zone, or None when the name is unknown (treated as an unknown zone)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _offset_s(zone: tzinfo, ts: int) -> int:
    offset = datetime.fromtimestamp(ts, zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _first_change(zone: tzinfo, lo: int, hi: int, offset_lo: int) -> int:
    """The first whole second in (lo, hi] whose offset differs from `offset_lo` (bisection)."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset_s(zone, mid) == offset_lo:
            lo = mid
        else:
            hi = mid
    return hi


def _clip(zone: tzinfo, start: int, end: int, offset: int) -> list[tuple[int, int]]:
    """The part of UTC `[start, end)` during which the zone's offset is `offset`."""
    if start >= end:
        return []
    first_ok = _offset_s(zone, start) == offset
    last_ok = _offset_s(zone, end - 1) == offset
    if first_ok and last_ok:
        return [(start, end)]
    if first_ok:
        return [(start, _first_change(zone, start, end - 1, offset))]
    if last_ok:
        change = _first_change(zone, start, end - 1, _offset_s(zone, start))
        return [(change, end)]
    return []


def local_span_to_utc(zone: tzinfo, day: date, start_min: int, end_min: int) -> list[Interval]:
    """Exactly the UTC instants whose local wall time on `day` lies in [start_min, end_min)."""
    midnight = datetime.combine(day, time())
    wall_a = midnight + timedelta(minutes=start_min)
    wall_b = midnight + timedelta(minutes=end_min)
    offsets: set[int] = set()
    for wall in (wall_a, wall_b):
        for fold in (0, 1):
            delta = wall.replace(fold=fold, tzinfo=zone).utcoffset()
            offsets.add(int(delta.total_seconds()) if delta is not None else 0)
    epoch_a = int(wall_a.replace(tzinfo=UTC).timestamp())
    epoch_b = int(wall_b.replace(tzinfo=UTC).timestamp())
    pieces: list[tuple[int, int]] = []
    for off in offsets:
        pieces.extend(_clip(zone, epoch_a - off, epoch_b - off, off))
    return _merge(pieces)


def _merge(pieces: list[tuple[int, int]]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(pieces):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((float(start), float(end)))
    return merged


class ZoneClock:
    """One schedule on one zone's clock: cached exact UTC intervals per local date."""

    __slots__ = ("_buckets", "_days", "_hours", "_labels", "_spans", "schedule", "tz", "zone")

    def __init__(self, schedule: Schedule, zone: str, tz: tzinfo) -> None:
        self.schedule = schedule
        self.zone = zone
        self.tz = tz
        self._days: dict[date, tuple[Interval, ...]] = {}
        self._buckets: dict[int, date | None] = {}
        self._labels: dict[date, str] = {}
        self._hours: dict[date, tuple[Hours, str | None]] = {}
        self._spans: dict[int, Interval] = {}

    def hours_on(self, day: date) -> tuple[Hours, str | None]:
        """The schedule's hours on `day` and what decided them (cached per clock)."""
        found = self._hours.get(day)
        if found is None:
            found = self.schedule.hours_on(day)
            self._hours[day] = found
        return found

    def hours_label(self, day: date) -> str:
        """'08:00–21:00' for the hours on `day` (cached)."""
        label = self._labels.get(day)
        if label is None:
            label = fmt_hours(self.hours_on(day)[0])
            self._labels[day] = label
        return label

    def local_date(self, ts: float) -> date:
        """The local date at `ts`, cached per 15-minute UTC bucket when the whole bucket agrees."""
        bucket = int(ts // BUCKET_S)
        day = self._buckets.get(bucket, _MISSING)
        if day is _MISSING:
            first = datetime.fromtimestamp(bucket * BUCKET_S, self.tz).date()
            last = datetime.fromtimestamp(bucket * BUCKET_S + BUCKET_S - 1, self.tz).date()
            day = first if first == last else None
            if len(self._buckets) > 100_000:
                self._buckets.clear()
            self._buckets[bucket] = day
        if day is None:
            return datetime.fromtimestamp(ts, self.tz).date()
        return day

    def intervals(self, day: date) -> tuple[Interval, ...]:
        cached = self._days.get(day)
        if cached is None:
            hours, _ = self.hours_on(day)
            found: list[tuple[int, int]] = []
            for start_min, end_min in hours:
                found.extend(
                    (int(a), int(b)) for a, b in local_span_to_utc(self.tz, day, start_min, end_min)
                )
            cached = tuple(_merge(found))
            self._days[day] = cached
        return cached

    def span_at(self, ts: float) -> Interval | None:
        """The open interval containing `ts`, else the next one; None if none within the horizon.

        Cached per 15-minute UTC bucket when the answer at the bucket's start still holds at its
        end (no interval ends inside the bucket), so the cache returns exactly `_span_at(ts)`.
        """
        bucket = int(ts // BUCKET_S)
        found = self._spans.get(bucket)
        if found is not None:
            return found
        start = bucket * BUCKET_S
        found = self._span_at(start)
        if found is not None and found[1] >= start + BUCKET_S:
            if len(self._spans) > 100_000:
                self._spans.clear()
            self._spans[bucket] = found
            return found
        return self._span_at(ts)

    def _span_at(self, ts: float) -> Interval | None:
        day = self.local_date(ts)
        for start, end in self.intervals(day):
            if end > ts:
                return start, end
        for k in range(1, HORIZON_DAYS):
            for start, end in self.intervals(day + timedelta(days=k)):
                if end > ts:
                    return start, end
        return None

    def is_open(self, ts: float) -> bool:
        found = self.span_at(ts)
        return found is not None and found[0] <= ts

    def local_minute(self, ts: float) -> tuple[datetime, int]:
        local = datetime.fromtimestamp(ts, self.tz)
        return local, local.hour * 60 + local.minute


_CLOCKS: dict[tuple[int, str], ZoneClock] = {}
_KEYS: list[Schedule] = []


def clock_for(schedule: Schedule, zone: str) -> ZoneClock | None:
    """The shared clock of `schedule` on `zone`; None if the zone name is unknown."""
    key = schedule._key
    if key == 0:
        _KEYS.append(schedule)  # keeps the schedule alive so its key is never reused
        key = len(_KEYS)
        object.__setattr__(schedule, "_key", key)
    clock = _CLOCKS.get((key, zone))
    if clock is None:
        tz = zone_info(zone)
        if tz is None:
            return None
        clock = ZoneClock(schedule, zone, tz)
        _CLOCKS[(key, zone)] = clock
    return clock


def first_common_open(clocks: Sequence[ZoneClock], ts: float, horizon_s: float) -> float | None:
    """The first instant >= ts at which every clock is open; None if none before ts + horizon."""
    limit = ts + horizon_s
    t = ts
    while t <= limit:
        latest = t
        for clock in clocks:
            found = clock.span_at(t)
            if found is None:
                return None
            if found[0] > latest:
                latest = found[0]
        if latest == t:
            return t
        t = latest
    return None


def common_open_until(clocks: Sequence[ZoneClock], ts: float) -> float | None:
    """When the first of the clocks closes, given all are open at `ts` (None: no clocks)."""
    ends = [found[1] for clock in clocks if (found := clock.span_at(ts)) is not None]
    return min(ends) if ends else None
