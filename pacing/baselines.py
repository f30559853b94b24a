"""Comparison baselines: VICIdial's ADAPT as coded, and the open-loop Erlang-B dialer.

They emulate other systems, so they obey the line caps but not our abandon-budget clamp.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from config.vocabulary import DialMode
from pacing.controller import cap_note, clamp_calls
from pacing.events import (
    CallAbandoned,
    CallAnswered,
    Decision,
    PacingEvent,
    PacingSettings,
    Snapshot,
)
from pacing.tracker import Tracker

ADAPT_PERIOD_S = 15.0
ADAPT_MIN_ANSWERS = 50


@dataclass(frozen=True, slots=True)
class CampaignFacts:
    """Nominal campaign figures an open-loop policy is configured with (no feedback)."""

    agents: int = 50
    p_human: float = 0.25
    talk_s: float = 180.0
    wrap_s: float = 20.0


class AdaptController:
    """VICIdial ADAPT: level × (1 + (ready − waiting)/agents) every 15 s, clamped to [1, 3]."""

    name = "adapt"
    mode = DialMode.PREDICTIVE

    def __init__(self, settings: PacingSettings | None = None) -> None:
        self.settings = settings or PacingSettings()
        self.level = 1.0
        self.next_adjust_s: float | None = None
        self.tracker = Tracker()

    def observe(self, event: PacingEvent) -> None:
        if isinstance(event, CallAnswered | CallAbandoned):
            self.tracker.observe(event)

    def configure(self, settings: PacingSettings) -> None:
        self.settings = settings

    def _adjust(self, now: float, snapshot: Snapshot) -> None:
        agents = max(1, snapshot.agents_staffed)
        level = self.level * (1.0 + (snapshot.agents_ready - snapshot.humans_waiting) / agents)
        level = min(max(level, 1.0), 3.0)
        self.tracker.forget_before(now - 60.0)
        answers = len(self.tracker.recent_answers)
        drops = len(self.tracker.recent_abandons)
        if answers and drops / answers > 0.5:
            level = max(1.0, level / 2.0)
        total = snapshot.answered_humans
        if total >= ADAPT_MIN_ANSWERS and snapshot.abandoned / total > (
            self.settings.target_abandon_rate
        ):
            level = 1.0
        self.level = level

    def decide(self, now: float, snapshot: Snapshot) -> Decision:
        if self.next_adjust_s is None:
            self.next_adjust_s = now + ADAPT_PERIOD_S
        while now >= self.next_adjust_s:
            self._adjust(now, snapshot)
            self.next_adjust_s += ADAPT_PERIOD_S
        target = round(self.level * snapshot.agents_ready)
        wanted = max(0, target - snapshot.calls_in_flight)
        calls = clamp_calls(wanted, snapshot, self.settings, respect_budget=False)
        text = (
            f"ADAPT level {self.level:.2f} × {snapshot.agents_ready} ready,"
            f" {snapshot.calls_in_flight} in flight → place {calls}{cap_note(wanted, calls)}"
        )
        return Decision(calls, text, self.level)


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of an M/M/N/N system offered `load` Erlangs."""
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def erlang_b_load(servers: int, blocking: float) -> float:
    """The offered load at which Erlang-B(servers, load) equals `blocking` (bisection)."""
    low, high = 0.0, float(servers) * 4.0 + 10.0
    for _ in range(80):
        mid = (low + high) / 2.0
        if erlang_b(servers, mid) < blocking:
            low = mid
        else:
            high = mid
    return low


class ErlangController:
    """Open loop: dials at the constant rate λ with λ·p_h·(talk + wrap) = A, B(N, A) = target."""

    name = "erlang"
    mode = DialMode.PREDICTIVE

    def __init__(self, settings: PacingSettings | None = None, facts: CampaignFacts | None = None):
        self.settings = settings or PacingSettings()
        self.facts = facts or CampaignFacts()
        self.start_s: float | None = None
        self.placed = 0

    def observe(self, event: PacingEvent) -> None:
        return None

    def configure(self, settings: PacingSettings) -> None:
        self.settings = settings

    @property
    def rate_per_s(self) -> float:
        f = self.facts
        load = erlang_b_load(f.agents, self.settings.target_abandon_rate)
        return load / (f.p_human * (f.talk_s + f.wrap_s))

    def decide(self, now: float, snapshot: Snapshot) -> Decision:
        if self.start_s is None:
            self.start_s = now
            self._rate = self.rate_per_s
        due = math.floor(self._rate * (now - self.start_s)) + 1 - self.placed
        calls = clamp_calls(max(0, due), snapshot, self.settings, respect_budget=False)
        self.placed += calls
        text = f"open loop at {self._rate * 60.0:.1f} dials/min → place {calls}"
        return Decision(calls, text, self._rate)
