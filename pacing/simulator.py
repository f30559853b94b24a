"""Deterministic discrete-event call-centre simulator that drives a controller only via its API.

The simulator owns the truth (the lead tape, agents, lines and the abandon ledger); the controller
sees events and snapshots and answers `decide(now, snapshot)` on every event and at least once per
simulated second. Lines: a call holds one from dialling until it fails, times out, is classified as
a machine (ring + AMD), is abandoned (grace + safe-harbour message) or its talk ends.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable

from config.vocabulary import AgentState, AmdResult, CallOutcome, DialMode
from pacing.controller import Controller
from pacing.events import (
    AgentChanged,
    CallAbandoned,
    CallAnswered,
    CallConnected,
    CallEnded,
    CallPlaced,
    CallRinging,
    PacingEvent,
    Snapshot,
)
from pacing.ledger import Ledger
from pacing.metrics import RunResult
from pacing.scenarios import SimConfig
from pacing.tape import Lead, LeadKind, Tape

(
    TICK,
    HUMAN,
    MACHINE,
    FALSE_POSITIVE,
    FAIL,
    NO_ANSWER,
    GRACE,
    TALK_END,
    WRAP_END,
    BREAK_END,
    REVIEW_END,
    LINE_FREE,
) = range(12)
SERIES_STEP_S = 60.0


class Simulation:
    """One shift of one policy on one seed's tape."""

    def __init__(
        self,
        config: SimConfig,
        controller: Controller,
        seed: int,
        *,
        abort_on_cap: bool = False,
        record_series: bool = False,
    ) -> None:
        self.config = config
        self.controller = controller
        self.tape = Tape(config, seed)
        self.ledger = Ledger(config.abandon_cap, config.cap_min_answers)
        self.abort_on_cap = abort_on_cap
        self.record_series = record_series
        self.result = RunResult(agents=config.agents, shift_s=config.shift_s)
        self.heap: list[tuple[float, int, int, int, int]] = []
        self.seq = 0
        n = config.agents
        self.state = [AgentState.READY] * n
        self.ready_since = [0.0] * n
        self.paused = 0  # agents on a break, kept in step with `state` by `set_agent`
        self.ready: deque[int] = deque(range(n))
        self.waiting: deque[int] = deque()
        self.waiting_set: set[int] = set()
        self.call_agent: dict[int, int] = {}
        self.leads: dict[int, Lead] = {}
        self.in_flight = 0
        self.lines_busy = 0
        self.next_call_id = 0
        self.break_due = [math.inf] * n
        for agent in range(config.agents_on_break()):
            self.break_due[agent] = config.break_every_s
        self.level = 1.0

    def push(self, at_s: float, kind: int, a: int = 0, b: int = 0) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at_s, self.seq, kind, a, b))

    def emit(self, event: PacingEvent) -> None:
        self.controller.observe(event)

    def run(self) -> RunResult:
        for agent in range(self.config.agents):
            self.emit(AgentChanged(0.0, agent, AgentState.READY))
        self.push(0.0, TICK)
        handlers = self._handlers()
        end_s = self.config.shift_s
        while self.heap:
            at_s, _, kind, a, b = heapq.heappop(self.heap)
            if at_s >= end_s:
                break
            handlers[kind](at_s, a, b)
            if self.abort_on_cap and self.ledger.exceeded_by_pacing:
                self.result.aborted = True
                break
            self.decide(at_s)
        return self.finish()

    def _handlers(self) -> dict[int, Callable[[float, int, int], None]]:
        return {
            TICK: self.on_tick,
            HUMAN: self.on_human,
            MACHINE: self.on_machine,
            FALSE_POSITIVE: self.on_false_positive,
            FAIL: self.on_fail,
            NO_ANSWER: self.on_no_answer,
            GRACE: self.on_grace,
            TALK_END: self.on_talk_end,
            WRAP_END: self.on_wrap_end,
            BREAK_END: self.on_break_end,
            REVIEW_END: self.on_review_end,
            LINE_FREE: self.on_line_free,
        }

    def snapshot(self) -> Snapshot:
        staffed = self.config.agents - self.paused
        return Snapshot(
            agents_ready=len(self.ready),
            agents_staffed=staffed,
            calls_in_flight=self.in_flight,
            humans_waiting=len(self.waiting_set),
            lines_busy=self.lines_busy,
            lines_total=self.config.trunk_lines,
            abandon_budget=self.ledger.budget,
            answered_humans=self.ledger.answers,
            abandoned=self.ledger.abandons,
        )

    def decide(self, now: float) -> None:
        snap = self.snapshot()
        decision = self.controller.decide(now, snap)
        self.level = decision.level
        room = snap.lines_total - snap.lines_busy
        calls = decision.calls
        if calls < 0 or calls > room:
            self.result.cap_violations += 1
            calls = max(0, min(calls, room))
        if self.controller.mode is DialMode.PREVIEW:
            calls = min(calls, len(self.ready))
            for _ in range(calls):
                self.reserve(now)
            return
        for _ in range(calls):
            self.place(now, self.tape.next_lead(now), None)

    def reserve(self, now: float) -> None:
        agent = self.ready.popleft()
        self.set_agent(now, agent, AgentState.RESERVED)
        lead = self.tape.next_lead(now)
        self.next_call_id += 1
        self.leads[self.next_call_id] = lead
        self.call_agent[self.next_call_id] = agent
        self.push(now + lead.review_s, REVIEW_END, self.next_call_id, agent)

    def on_review_end(self, now: float, call_id: int, agent: int) -> None:
        lead = self.leads.pop(call_id)
        self.place(now, lead, call_id)

    def place(self, now: float, lead: Lead, call_id: int | None) -> None:
        if call_id is None:
            self.next_call_id += 1
            call_id = self.next_call_id
        self.in_flight += 1
        self.lines_busy += 1
        self.result.dials += 1
        self.result.peak_lines = max(self.result.peak_lines, self.lines_busy)
        self.emit(CallPlaced(now, call_id))
        self.emit(CallRinging(now, call_id))
        c = self.config
        if lead.kind is LeadKind.HUMAN:
            if lead.amd_false_positive:
                self.push(now + lead.ring_s + c.amd_s, FALSE_POSITIVE, call_id)
            else:
                self.push(now + lead.ring_s, HUMAN, call_id)
        elif lead.kind is LeadKind.MACHINE:
            self.push(now + lead.ring_s + c.amd_s, MACHINE, call_id)
        elif lead.kind is LeadKind.FAIL:
            self.push(now + lead.fail_hold_s, FAIL, call_id)
        else:
            self.push(now + c.no_answer_timeout_s, NO_ANSWER, call_id)

    def set_agent(self, now: float, agent: int, state: AgentState) -> None:
        was_paused = self.state[agent] is AgentState.PAUSED
        self.paused += (state is AgentState.PAUSED) - was_paused
        self.state[agent] = state
        self.emit(AgentChanged(now, agent, state))

    def resolved(self, call_id: int, now: float) -> None:
        """A call left the ringing phase without a human for the campaign; free its agent."""
        self.in_flight -= 1
        agent = self.call_agent.pop(call_id, None)
        if agent is not None:
            self.become_ready(now, agent, fresh=False)

    def on_tick(self, now: float, a: int, b: int) -> None:
        if self.record_series and now % SERIES_STEP_S == 0.0:
            staffed = max(1, self.config.agents - self.paused)
            self.result.series.append((now, self.level, self.in_flight / staffed, self.ledger.rate))
        self.push(now + 1.0, TICK)

    def on_human(self, now: float, call_id: int, b: int) -> None:
        self.in_flight -= 1
        self.ledger.answered(now)
        self.result.answer_times.append(now)
        self.emit(CallAnswered(now, call_id, AmdResult.HUMAN))
        agent = self.call_agent.pop(call_id, None)
        if agent is None and self.ready:
            agent = self.ready.popleft()
        if agent is not None:
            self.connect(now, agent, call_id)
            return
        self.waiting.append(call_id)
        self.waiting_set.add(call_id)
        self.push(now + self.config.grace_s, GRACE, call_id)

    def on_false_positive(self, now: float, call_id: int, b: int) -> None:
        self.ledger.answered(now)
        self.ledger.abandoned(now, false_positive=True)
        self.result.answer_times.append(now)
        self.result.abandon_times.append(now)
        self.lines_busy -= 1
        self.emit(CallAnswered(now, call_id, AmdResult.MACHINE))
        self.resolved(call_id, now)

    def on_machine(self, now: float, call_id: int, b: int) -> None:
        self.lines_busy -= 1
        self.emit(CallAnswered(now, call_id, AmdResult.MACHINE))
        self.resolved(call_id, now)

    def on_fail(self, now: float, call_id: int, b: int) -> None:
        self.lines_busy -= 1
        self.emit(CallEnded(now, call_id, CallOutcome.BUSY))
        self.resolved(call_id, now)

    def on_no_answer(self, now: float, call_id: int, b: int) -> None:
        self.lines_busy -= 1
        self.emit(CallEnded(now, call_id, CallOutcome.NO_ANSWER))
        self.resolved(call_id, now)

    def on_grace(self, now: float, call_id: int, b: int) -> None:
        if call_id not in self.waiting_set:
            return
        self.waiting_set.discard(call_id)
        self.ledger.abandoned(now, false_positive=False)
        self.result.abandon_times.append(now)
        self.emit(CallAbandoned(now, call_id))
        self.push(now + self.config.safe_harbour_s, LINE_FREE)

    def on_line_free(self, now: float, a: int, b: int) -> None:
        self.lines_busy -= 1

    def connect(self, now: float, agent: int, call_id: int) -> None:
        r = self.result
        r.waits.append(now - self.ready_since[agent])
        r.connects += 1
        talk_s = self.tape.next_talk_s()
        r.talk_s += min(talk_s, self.config.shift_s - now)
        self.emit(CallConnected(now, call_id, agent))
        self.set_agent(now, agent, AgentState.ON_CALL)
        self.push(now + talk_s, TALK_END, agent)

    def on_talk_end(self, now: float, agent: int, b: int) -> None:
        self.lines_busy -= 1
        self.set_agent(now, agent, AgentState.WRAP_UP)
        wrap_s = self.tape.next_wrap_s()
        self.result.wrap_s += min(wrap_s, self.config.shift_s - now)
        self.push(now + wrap_s, WRAP_END, agent)

    def on_wrap_end(self, now: float, agent: int, b: int) -> None:
        if now >= self.break_due[agent]:
            self.break_due[agent] += self.config.break_every_s
            self.set_agent(now, agent, AgentState.PAUSED)
            self.push(now + self.config.break_s, BREAK_END, agent)
            return
        self.become_ready(now, agent)

    def on_break_end(self, now: float, agent: int, b: int) -> None:
        self.become_ready(now, agent)

    def become_ready(self, now: float, agent: int, *, fresh: bool = True) -> None:
        if fresh:
            self.ready_since[agent] = now
        self.set_agent(now, agent, AgentState.READY)
        while self.waiting:
            call_id = self.waiting.popleft()
            if call_id in self.waiting_set:
                self.waiting_set.discard(call_id)
                self.connect(now, agent, call_id)
                return
        self.ready.append(agent)

    def finish(self) -> RunResult:
        r = self.result
        led = self.ledger
        r.answers, r.abandons, r.fp_abandons = led.answers, led.abandons, led.fp_abandons
        r.cap_exceeded = led.exceeded
        r.cap_exceeded_by_pacing = led.exceeded_by_pacing
        r.fp_floor_exceeded = led.floor_exceeded
        return r


def simulate(
    config: SimConfig,
    controller: Controller,
    seed: int,
    *,
    abort_on_cap: bool = False,
    record_series: bool = False,
) -> RunResult:
    """Run one shift: the same seed gives the same tape, so the same policy, the same numbers."""
    sim = Simulation(
        config, controller, seed, abort_on_cap=abort_on_cap, record_series=record_series
    )
    return sim.run()
