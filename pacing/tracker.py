"""What controllers learn from events: agent states with entry times, calls in flight, estimates."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from config.vocabulary import AgentState, AmdResult, CallOutcome
from pacing.estimators import LogNormalEstimator, Resolution, ShareEstimator
from pacing.events import (
    AgentChanged,
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallPlaced,
    PacingEvent,
)

QUICK_FAILS = frozenset(
    {
        CallOutcome.BUSY,
        CallOutcome.FAILED,
        CallOutcome.REJECTED,
        CallOutcome.UNAVAILABLE,
        CallOutcome.INVALID_NUMBER,
    }
)
PRIOR_SHARES = {
    Resolution.HUMAN: 0.2,
    Resolution.MACHINE: 0.15,
    Resolution.QUICK_FAIL: 0.15,
    Resolution.NO_ANSWER: 0.5,
}


@dataclass(slots=True)
class Estimates:
    """The duration and share models, each tracking drift over its window."""

    shares: ShareEstimator = field(default_factory=lambda: ShareEstimator(PRIOR_SHARES))
    ring: LogNormalEstimator = field(default_factory=lambda: LogNormalEstimator(10.0, 0.6))
    machine: LogNormalEstimator = field(default_factory=lambda: LogNormalEstimator(13.0, 0.5))
    quick_fail: LogNormalEstimator = field(default_factory=lambda: LogNormalEstimator(5.0, 0.5))
    no_answer: LogNormalEstimator = field(default_factory=lambda: LogNormalEstimator(25.0, 0.1))
    talk: LogNormalEstimator = field(default_factory=lambda: LogNormalEstimator(150.0, 1.0))
    wrap: LogNormalEstimator = field(default_factory=lambda: LogNormalEstimator(20.0, 0.6))


class Tracker:
    """Folds pacing events into live state: who is in which state since when, what is ringing."""

    def __init__(self, *, window: int = 300) -> None:
        self.estimates = Estimates()
        self.estimates.shares.window = window
        self.agents: dict[int, tuple[AgentState, float]] = {}
        self.pending: dict[int, float] = {}
        self.answered_humans = 0
        self.abandoned = 0
        self.placed = 0
        self.recent_answers: deque[float] = deque()
        self.recent_abandons: deque[float] = deque()

    def observe(self, event: PacingEvent) -> None:
        if isinstance(event, CallPlaced):
            self.pending[event.call_id] = event.at_s
            self.placed += 1
        elif isinstance(event, CallAnswered):
            self._answered(event)
        elif isinstance(event, CallEnded):
            self._ended(event)
        elif isinstance(event, CallAbandoned):
            self.abandoned += 1
            self.recent_abandons.append(event.at_s)
        elif isinstance(event, AgentChanged):
            self._agent(event)

    def _answered(self, event: CallAnswered) -> None:
        placed_s = self.pending.pop(event.call_id, None)
        if placed_s is None:
            return
        est = self.estimates
        if event.amd is AmdResult.MACHINE:
            est.shares.add(Resolution.MACHINE)
            est.machine.add(event.at_s - placed_s)
            return
        est.shares.add(Resolution.HUMAN)
        est.ring.add(event.at_s - placed_s)
        self.answered_humans += 1
        self.recent_answers.append(event.at_s)

    def _ended(self, event: CallEnded) -> None:
        placed_s = self.pending.pop(event.call_id, None)
        if placed_s is None or event.outcome is CallOutcome.INTERRUPTED:
            return
        est = self.estimates
        if event.outcome is CallOutcome.NO_ANSWER:
            est.shares.add(Resolution.NO_ANSWER)
            est.no_answer.add(event.at_s - placed_s)
        elif event.outcome in QUICK_FAILS:
            est.shares.add(Resolution.QUICK_FAIL)
            est.quick_fail.add(event.at_s - placed_s)

    def _agent(self, event: AgentChanged) -> None:
        before = self.agents.get(event.agent_id)
        self.agents[event.agent_id] = (event.state, event.at_s)
        if before is None or before[0] is event.state:
            return
        elapsed_s = event.at_s - before[1]
        if before[0] is AgentState.ON_CALL:
            self.estimates.talk.add(elapsed_s)
        elif before[0] is AgentState.WRAP_UP:
            self.estimates.wrap.add(elapsed_s)

    def forget_before(self, horizon_s: float) -> None:
        """Drop the recent-answer and recent-abandon times older than `horizon_s`."""
        while self.recent_answers and self.recent_answers[0] < horizon_s:
            self.recent_answers.popleft()
        while self.recent_abandons and self.recent_abandons[0] < horizon_s:
            self.recent_abandons.popleft()
