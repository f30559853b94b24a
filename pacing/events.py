"""Timestamped events a pacing controller observes, its input snapshot, its decision and settings.

Times are float seconds on any monotonic clock the caller chooses (`at_s`, `now`); controllers
never read a clock themselves. Events are named in the past tense and frozen.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.vocabulary import AgentState, AmdResult, CallOutcome, DialMode


@dataclass(frozen=True, slots=True)
class CallPlaced:
    """The engine sent a call (INVITE) for a lead."""

    at_s: float
    call_id: int


@dataclass(frozen=True, slots=True)
class CallRinging:
    """The far end rings (first provisional response); the no-answer timer starts here."""

    at_s: float
    call_id: int


@dataclass(frozen=True, slots=True)
class CallAnswered:
    """The call was answered and classified: HUMAN at answer, MACHINE at the end of the greeting."""

    at_s: float
    call_id: int
    amd: AmdResult


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The call ended without a human for the campaign (no-answer, busy, failed, ...)."""

    at_s: float
    call_id: int
    outcome: CallOutcome


@dataclass(frozen=True, slots=True)
class CallConnected:
    """An answered human was bridged to an agent."""

    at_s: float
    call_id: int
    agent_id: int


@dataclass(frozen=True, slots=True)
class CallAbandoned:
    """An answered human got no agent within the connect grace (or AMD hung up on a human)."""

    at_s: float
    call_id: int


@dataclass(frozen=True, slots=True)
class AgentChanged:
    """An agent entered a state (ready, reserved, on-call, wrap-up, paused, logged-out)."""

    at_s: float
    agent_id: int
    state: AgentState


PacingEvent = (
    CallPlaced
    | CallRinging
    | CallAnswered
    | CallEnded
    | CallConnected
    | CallAbandoned
    | AgentChanged
)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The engine's view at decision time: agents, lines and the compliance ledger's budget.

    `abandon_budget` is how many more abandons the campaign can afford now and stay under its cap
    (the compliance ledger computes it); `calls_in_flight` counts placed calls not yet answered
    or ended; `humans_waiting` counts answered humans not yet bridged to an agent.
    """

    agents_ready: int
    agents_staffed: int
    calls_in_flight: int
    humans_waiting: int
    lines_busy: int
    lines_total: int
    abandon_budget: int
    answered_humans: int = 0
    abandoned: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """How many calls to place now, and why, in words a supervisor can read.

    `level` is the controller's current dial level (calls in flight per ready or soon-free agent),
    reported for plots and wallboards.
    """

    calls: int
    explanation: str
    level: float = 1.0


@dataclass(frozen=True, slots=True)
class PacingSettings:
    """Live settings of a campaign's pacing; a change applies at the next decision.

    `amd_false_positive_rate` is the share of live answers the campaign's answering-machine
    detection is expected to take for machines (each one an abandoned call), from the AMD's own
    calibration; 0 when AMD is off or never errs; None (the default) when unknown, which
    predictive treats as a typical AMD's share (`Tuning.fp_unknown_rate`, 2 %) rather than as
    none. Predictive keeps budget for runs of them from the first call, before it has seen any;
    the share it then observes takes over.
    """

    mode: DialMode = DialMode.PREDICTIVE
    target_abandon_rate: float = 0.03
    max_lines_per_agent: float = 4.0
    min_ratio: float = 1.0
    max_ratio: float = 4.0
    ratio: float = 2.0
    amd_false_positive_rate: float | None = None
