"""The sans-IO controller interface every pacing mode implements, and the caps all of them obey.

A controller is fed timestamped events (`observe`), may be reconfigured live (`configure`, applied
at the next decision) and is asked `decide(now, snapshot)` for how many calls to place now. It
never reads a clock, never does IO, and never plans beyond the line/trunk caps; product modes also
never place more calls without a ready agent behind them than the abandon budget allows.
"""

from __future__ import annotations

import math
from typing import Protocol

from config.vocabulary import DialMode
from pacing.events import Decision, PacingEvent, PacingSettings, Snapshot


class Controller(Protocol):
    """A pacing policy. `mode` tells the engine which agent flow it drives (preview reserves)."""

    name: str
    mode: DialMode

    def observe(self, event: PacingEvent) -> None: ...

    def configure(self, settings: PacingSettings) -> None: ...

    def decide(self, now: float, snapshot: Snapshot) -> Decision: ...


def line_room(snapshot: Snapshot, settings: PacingSettings) -> int:
    """Calls that fit now under the trunk capacity and the lines-per-agent cap."""
    trunk_room = snapshot.lines_total - snapshot.lines_busy
    per_agent_cap = math.floor(settings.max_lines_per_agent * snapshot.agents_staffed + 1e-9)
    agent_room = per_agent_cap - snapshot.calls_in_flight
    return max(0, min(trunk_room, agent_room))


def backed_calls(snapshot: Snapshot) -> int:
    """Calls that have a ready agent behind them even if every call in flight is a human."""
    return max(0, snapshot.agents_ready - snapshot.calls_in_flight - snapshot.humans_waiting)


def clamp_calls(
    wanted: int, snapshot: Snapshot, settings: PacingSettings, *, respect_budget: bool = True
) -> int:
    """`wanted` cut to the line caps and (product modes) to backed calls + the abandon budget."""
    calls = max(0, min(wanted, line_room(snapshot, settings)))
    if respect_budget:
        calls = min(calls, backed_calls(snapshot) + max(0, snapshot.abandon_budget))
    return calls


def cap_note(wanted: int, placed: int) -> str:
    """The explanation suffix when caps cut a plan."""
    return "" if wanted <= placed else f" (cut from {wanted} by line/budget caps)"
