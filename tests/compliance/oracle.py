"""Independent oracles for the compliance tests: wall-clock membership and brute-force counts."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from compliance.schedule import Schedule


def open_at(schedule: Schedule, zone: str, ts: float) -> bool:
    """Is the callee's local wall time at `ts` inside `schedule`? (No interval machinery.)"""
    local = datetime.fromtimestamp(ts, ZoneInfo(zone))
    hours, _ = schedule.hours_on(local.date())
    second = local.hour * 3600 + local.minute * 60 + local.second
    return any(a * 60 <= second < b * 60 for a, b in hours)


def all_open(pairs: list[tuple[Schedule, str]], ts: float) -> bool:
    return all(open_at(schedule, zone, ts) for schedule, zone in pairs)


def first_open_by_minutes(
    pairs: list[tuple[Schedule, str]], start_ts: float, limit_ts: float
) -> float | None:
    """Brute force: the first whole-minute instant in [start, limit] where all pairs are open."""
    t = start_ts
    while t <= limit_ts:
        if all_open(pairs, t):
            return t
        t += 60.0
    return None
