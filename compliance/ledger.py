"""Abandon ledgers (pure): counts per campaign or group on each window a regime uses; the budget.

Events are drops (abandoned calls: a human answered and no agent within the grace, including
humans AMD misclassified and hung up on), agent-handled humans, and AMD machines. Windows:
campaign-to-date, the current successive 30-day period from the start, rolling 30 days, rolling
24 hours. Rates are fractions:
- US (TSR/TCPA): drops ÷ live-answered, live-answered = agent-handled humans + drops;
- Ofcom (AMD-adjusted, VICIdial's formula): adjusted = drops − drops·AM/(AM + humans), rate =
  adjusted ÷ (humans + adjusted); with no agent-handled human any drop counts as 100 %.
`abandon_budget(now)` is the largest number of further drops that keeps every window of the regime
at or under the cap, computed exactly with fractions.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from math import floor

from compliance.facts import AbandonState
from compliance.rulesets import (
    CAMPAIGN_TO_DATE,
    PERIOD_30D,
    ROLLING_24H,
    ROLLING_30D,
    AbandonRegime,
)
from config.vocabulary import AmdResult, CallOutcome

DAY_S = 86_400.0
WINDOWS = (CAMPAIGN_TO_DATE, PERIOD_30D, ROLLING_30D, ROLLING_24H)


@dataclass(frozen=True, slots=True)
class Counts:
    drops: int = 0
    humans: int = 0  # agent-handled humans
    machines: int = 0

    @property
    def live_answered(self) -> int:
        return self.humans + self.drops


def abandon_rate(counts: Counts, ofcom_adjusted: bool) -> float:
    """The regime's abandon rate as a fraction (0 when nothing was answered)."""
    d, h, m = counts.drops, counts.humans, counts.machines
    if not ofcom_adjusted:
        return d / (h + d) if h + d else 0.0
    if h == 0:
        return 1.0 if d else 0.0
    adjusted = d - d * m / (m + h)
    return adjusted / (h + adjusted)


def budget_for(counts: Counts, cap: Fraction, ofcom_adjusted: bool) -> int:
    """How many more drops keep the rate at or under `cap` (0 when already at or over it).

    US: (d+k)/(h+d+k) <= cap  ⇔  d+k <= cap·h/(1−cap).
    Ofcom: (d+k)·f/(h+(d+k)·f) <= cap with f = h/(AM+h)  ⇔  d+k <= cap·(AM+h)/(1−cap).
    """
    d, h, m = counts.drops, counts.humans, counts.machines
    if h == 0:
        return 0
    base = h + m if ofcom_adjusted else h
    return max(0, floor(cap * base / (1 - cap)) - d)


@dataclass(frozen=True)
class BudgetReport:
    """The budget (the binding window decides it) and every window's counts and rate."""

    abandons: int
    window: str
    counts: dict[str, Counts]
    rates: dict[str, float]
    cap: float

    def state(self) -> AbandonState:
        """The fact `evaluate` takes (facts.abandon)."""
        return AbandonState(self.abandons, self.window, self.rates[self.window], self.cap)


def window_bounds(window: str, start_ts: float, ts: float) -> tuple[float, float, bool]:
    """(lo, hi, lo_inclusive) of `window` at `ts` for a ledger started at `start_ts` (hi: ts).

    The stores count events in SQL over the same bounds (lo < t <= hi, or lo <= t <= hi).
    """
    if window == CAMPAIGN_TO_DATE:
        return start_ts, ts, True
    if window == PERIOD_30D:
        period = 30 * DAY_S
        k = max(0, floor((ts - start_ts) / period))
        return start_ts + k * period, ts, True
    if window == ROLLING_30D:
        return ts - 30 * DAY_S, ts, False
    if window == ROLLING_24H:
        return ts - DAY_S, ts, False
    raise ValueError(f"unknown abandon window {window!r}")


def report_from_counts(counts: dict[str, Counts], regime: AbandonRegime) -> BudgetReport:
    """Budget and rates from each window's counts (however they were counted)."""
    cap = Fraction(repr(regime.cap))
    budgets = {w: budget_for(c, cap, regime.ofcom_adjusted) for w, c in counts.items()}
    binding = min(budgets, key=lambda w: budgets[w])
    rates = {w: abandon_rate(c, regime.ofcom_adjusted) for w, c in counts.items()}
    return BudgetReport(budgets[binding], binding, counts, rates, regime.cap)


@dataclass
class AbandonLedger:
    """One campaign's (or one group's) drops, agent-handled humans and AMD machines over time."""

    started_at: datetime
    regime: AbandonRegime
    _times: list[float] = field(default_factory=list)
    _events: list[tuple[float, int, int, int]] = field(default_factory=list)
    _cum: list[tuple[int, int, int]] = field(default_factory=lambda: [(0, 0, 0)])

    def record(self, at: datetime, *, drops: int = 0, humans: int = 0, machines: int = 0) -> None:
        """Add counts at `at` (events may arrive slightly out of order)."""
        ts = at.timestamp()
        if not self._times or ts >= self._times[-1]:
            self._times.append(ts)
            last = self._cum[-1]
            self._cum.append((last[0] + drops, last[1] + humans, last[2] + machines))
            self._events.append((ts, drops, humans, machines))
            return
        insort(self._events, (ts, drops, humans, machines))
        self._times = [e[0] for e in self._events]
        self._rebuild()

    def record_outcome(self, at: datetime, outcome: CallOutcome, amd: AmdResult | None) -> None:
        """Map a finished call: abandoned → drop; answered machine → AM; answered else → human."""
        if outcome is CallOutcome.ABANDONED:
            self.record(at, drops=1)
        elif outcome is CallOutcome.ANSWERED:
            if amd is AmdResult.MACHINE:
                self.record(at, machines=1)
            else:
                self.record(at, humans=1)

    def _rebuild(self) -> None:
        cum = [(0, 0, 0)]
        for _, d, h, m in self._events:
            last = cum[-1]
            cum.append((last[0] + d, last[1] + h, last[2] + m))
        self._cum = cum

    def _between(self, lo: float, hi: float, lo_inclusive: bool) -> Counts:
        times = self._times
        i = bisect_left(times, lo) if lo_inclusive else bisect_right(times, lo)
        j = bisect_right(times, hi)
        if j <= i:
            return Counts()
        a, b = self._cum[i], self._cum[j]
        return Counts(b[0] - a[0], b[1] - a[1], b[2] - a[2])

    def counts(self, window: str, now: datetime) -> Counts:
        """Counts in `window` at `now` (events after `now` are not counted)."""
        lo, hi, lo_inclusive = window_bounds(window, self.started_at.timestamp(), now.timestamp())
        return self._between(lo, hi, lo_inclusive)

    def report(self, now: datetime) -> BudgetReport:
        """Budget and rates on every window of the regime."""
        return report_from_counts({w: self.counts(w, now) for w in self.regime.windows},
                                  self.regime)  # fmt: skip

    def abandon_budget(self, now: datetime) -> int:
        return self.report(now).abandons


@dataclass
class LedgerBook:
    """Ledgers per campaign and per group of campaigns; a campaign's budget is the tightest."""

    regime: AbandonRegime
    campaigns: dict[int, AbandonLedger] = field(default_factory=dict)
    groups: dict[str, AbandonLedger] = field(default_factory=dict)
    members: dict[int, tuple[str, ...]] = field(default_factory=dict)

    def add_campaign(
        self, campaign_id: int, started_at: datetime, groups: Iterable[str] = ()
    ) -> None:
        self.campaigns[campaign_id] = AbandonLedger(started_at, self.regime)
        self.members[campaign_id] = tuple(groups)
        for group in self.members[campaign_id]:
            ledger = self.groups.get(group)
            if ledger is None or started_at < ledger.started_at:
                replacement = AbandonLedger(started_at, self.regime)
                if ledger is not None:
                    for ts, d, h, m in ledger._events:
                        replacement.record(datetime.fromtimestamp(ts, started_at.tzinfo),
                                           drops=d, humans=h, machines=m)  # fmt: skip
                self.groups[group] = replacement

    def record_outcome(
        self, campaign_id: int, at: datetime, outcome: CallOutcome, amd: AmdResult | None
    ) -> None:
        self.campaigns[campaign_id].record_outcome(at, outcome, amd)
        for group in self.members.get(campaign_id, ()):
            self.groups[group].record_outcome(at, outcome, amd)

    def report(self, campaign_id: int, now: datetime) -> BudgetReport:
        """The tightest report among the campaign's own ledger and its groups'."""
        reports = [self.campaigns[campaign_id].report(now)]
        reports += [self.groups[g].report(now) for g in self.members.get(campaign_id, ())]
        return min(reports, key=lambda r: r.abandons)

    def abandon_budget(self, campaign_id: int, now: datetime) -> int:
        return self.report(campaign_id, now).abandons
