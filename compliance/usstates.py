"""US state telemarketing overrides as data: every row cites where its figures come from.

Rows apply to telephone solicitation (purpose `marketing`) on the callee's clock, on top of the
federal 08:00–21:00. A ✱ marks a secondary source (a compliance vendor's table) whose statute we
have not read ourselves. States not listed follow the federal rule. A lead whose state is unknown
gets, by default, the strictest combination of every row (`strictest_unknown`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import zipcodes

from compliance.schedule import Hours, Schedule, span

_DROPCOWBOY = "✱ dropcowboy.com/state-compliance (table updated 2025-11-01)"
_CLICKPOINT = "✱ blog.clickpointsoftware.com/telemarketing-calling-hours-by-state (July 2025)"


@dataclass(frozen=True)
class StateRule:
    """One state's hours (Mon–Fri, Saturday, Sunday), holiday closure and 24 h cap, with source."""

    state: str
    weekdays: Hours
    saturday: Hours
    sunday: Hours
    closed_on_holidays: bool
    max_calls_24h: int | None
    source: str

    @property
    def rule(self) -> str:
        return f"us.state.{self.state}.calling_hours"

    def schedule(self) -> Schedule:
        wd = self.weekdays
        return Schedule(
            rule=self.rule,
            weekly=(wd, wd, wd, wd, wd, self.saturday, self.sunday),
            source=self.source,
            holiday_hours=() if self.closed_on_holidays else None,
            holiday_country="US" if self.closed_on_holidays else None,
            holiday_subdiv=self.state if self.closed_on_holidays else None,
        )


_8_20 = span("08:00", "20:00")
_9_20 = span("09:00", "20:00")
_9_21 = span("09:00", "21:00")
CLOSED: Hours = ()

STATE_RULES: tuple[StateRule, ...] = (
    StateRule("AL", _8_20, _8_20, CLOSED, True, None, _DROPCOWBOY),
    StateRule("CT", _9_20, _9_20, _9_20, False, None, "Conn. Gen. Stat. § 42-288a; " + _DROPCOWBOY),
    StateRule(
        "FL", _8_20, _8_20, _8_20, False, 3,
        "Fla. Stat. § 501.616(6)(a)-(b) (SB 1120); " + _CLICKPOINT,
    ),
    StateRule("KY", span("10:00", "21:00"), span("10:00", "21:00"), span("10:00", "21:00"), False,
              None, _DROPCOWBOY),
    StateRule(
        "LA", _8_20, _8_20, CLOSED, True, None,
        "La. PSC General Order R-29617 § V(A)(2); La. R.S. 45:811; ✱ dnc.com/holiday-alerts",
    ),
    StateRule("MA", _8_20, _8_20, _8_20, False, None, _DROPCOWBOY),
    StateRule(
        "MD", _8_20, _8_20, _8_20, False, 3,
        "Md. Code, Com. Law § 14-4503 (Stop the Spam Calls Act, 2023); " + _DROPCOWBOY,
    ),
    StateRule("MI", _9_21, _9_21, _9_21, False, None, _DROPCOWBOY),
    StateRule("MN", _9_21, _9_21, _9_21, False, None, _DROPCOWBOY),
    StateRule("MS", _8_20, _8_20, CLOSED, False, None, _DROPCOWBOY),
    StateRule("NM", _9_21, _9_21, _9_21, False, None, _DROPCOWBOY),
    StateRule("NV", _9_20, _9_20, _9_20, False, None, _DROPCOWBOY),
    StateRule(
        "OK", _8_20, _8_20, _8_20, False, 3,
        "Okla. Stat. tit. 15, § 775C.4 (Telephone Solicitation Act of 2022); " + _CLICKPOINT,
    ),
    StateRule(
        "RI", span("09:00", "18:00"), span("10:00", "17:00"), CLOSED, True, None,
        "R.I. Gen. Laws § 5-61-3.6 and § 5-61-2 (hours of operation); " + _DROPCOWBOY,
    ),
    StateRule("WA", _8_20, _8_20, _8_20, False, None,
              "RCW 80.36.390; ✱ compliancepoint.com (comparing state telemarketing laws)"),
)  # fmt: skip

STATES: dict[str, StateRule] = {row.state: row for row in STATE_RULES}


def _narrowest(all_hours: list[Hours]) -> Hours:
    """The intersection of single-span hours: latest start, earliest end (closed if any is)."""
    if any(not hours for hours in all_hours):
        return CLOSED
    start = max(hours[0][0] for hours in all_hours)
    end = min(hours[-1][1] for hours in all_hours)
    return ((start, end),) if start < end else CLOSED


def _strictest() -> StateRule:
    return StateRule(
        state="unknown",
        weekdays=_narrowest([r.weekdays for r in STATE_RULES]),
        saturday=_narrowest([r.saturday for r in STATE_RULES]),
        sunday=_narrowest([r.sunday for r in STATE_RULES]),
        closed_on_holidays=True,
        max_calls_24h=min(r.max_calls_24h for r in STATE_RULES if r.max_calls_24h),
        source="the strictest combination of every sourced state row (state unknown)",
    )


STRICTEST_UNKNOWN = _strictest()
_SCHEDULES: dict[str, Schedule] = {row.state: row.schedule() for row in STATE_RULES}
_STRICTEST_SCHEDULE = Schedule(
    rule="us.state.unknown.calling_hours",
    weekly=STRICTEST_UNKNOWN.schedule().weekly,
    source=STRICTEST_UNKNOWN.source,
    holiday_hours=CLOSED,
    holiday_country="US",
)


def state_schedule(state: str | None) -> tuple[StateRule, Schedule] | None:
    """The override for a two-letter state (None when the state has no row); unknown → strictest."""
    if state is None:
        return STRICTEST_UNKNOWN, _STRICTEST_SCHEDULE
    row = STATES.get(state.upper())
    return None if row is None else (row, _SCHEDULES[row.state])


@lru_cache(maxsize=65_536)
def state_for_zip(postal_code: str) -> str | None:
    """The state of a US ZIP code (offline `zipcodes` data); None if unknown."""
    digits = postal_code.strip()[:5]
    if len(digits) != 5 or not digits.isdigit():
        return None
    try:
        found = zipcodes.matching(digits)  # type: ignore[no-untyped-call]
    except (ValueError, TypeError):
        return None
    return str(found[0]["state"]) if found else None
