"""Hypothesis invariants of every registered pacing controller, driven by random snapshots."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from config.vocabulary import AgentState, AmdResult
from pacing import registry
from pacing.controller import Controller, backed_calls, line_room
from pacing.events import AgentChanged, CallAnswered, CallPlaced, PacingSettings, Snapshot

PRODUCT_MODES = ("preview", "progressive", "power", "predictive")


@st.composite
def snapshots(draw: st.DrawFn) -> Snapshot:
    staffed = draw(st.integers(0, 60))
    ready = draw(st.integers(0, staffed))
    lines_total = draw(st.integers(0, 4 * max(staffed, 1)))
    return Snapshot(
        agents_ready=ready,
        agents_staffed=staffed,
        calls_in_flight=draw(st.integers(0, 3 * max(staffed, 1))),
        humans_waiting=draw(st.integers(0, 5)),
        lines_busy=draw(st.integers(0, lines_total)),
        lines_total=lines_total,
        abandon_budget=draw(st.integers(0, 30)),
        answered_humans=draw(st.integers(0, 5000)),
        abandoned=draw(st.integers(0, 100)),
    )


def warmed(name: str, pacing: PacingSettings, agents: int) -> Controller:
    """A controller that has seen a plausible history (so `predictive` leaves its warm-up)."""
    controller = registry.create(name, pacing)
    t = 0.0
    for agent in range(agents):
        controller.observe(AgentChanged(t, agent, AgentState.READY))
    for call in range(400):
        t += 1.0
        controller.observe(CallPlaced(t, call))
        amd = AmdResult.HUMAN if call % 4 == 0 else AmdResult.MACHINE
        controller.observe(CallAnswered(t + 9.0, call, amd))
        agent = call % max(agents, 1)
        controller.observe(AgentChanged(t + 9.0, agent, AgentState.ON_CALL))
        controller.observe(AgentChanged(t + 150.0, agent, AgentState.WRAP_UP))
        controller.observe(AgentChanged(t + 170.0, agent, AgentState.READY))
    return controller


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(registry.REGISTRY)),
    snap=snapshots(),
    max_lines=st.floats(0.5, 5.0),
    now=st.floats(600.0, 5000.0),
)
def test_decisions_are_never_negative_nor_over_line_caps(
    name: str, snap: Snapshot, max_lines: float, now: float
) -> None:
    pacing = PacingSettings(max_lines_per_agent=max_lines, ratio=3.0)
    decision = warmed(name, pacing, 20).decide(now, snap)
    assert decision.calls >= 0
    assert decision.calls <= snap.lines_total - snap.lines_busy
    assert snap.calls_in_flight + decision.calls <= max(
        snap.calls_in_flight, math.floor(max_lines * snap.agents_staffed + 1e-9)
    )
    assert decision.calls <= line_room(snap, pacing)
    assert decision.explanation


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(PRODUCT_MODES), snap=snapshots(), now=st.floats(600.0, 5000.0))
def test_product_modes_never_plan_beyond_the_abandon_budget(
    name: str, snap: Snapshot, now: float
) -> None:
    """Calls without a ready agent behind them never outnumber the abandons the ledger allows."""
    decision = warmed(name, PacingSettings(ratio=4.0), 20).decide(now, snap)
    unbacked = decision.calls - backed_calls(snap)
    if name == "preview":
        assert decision.calls <= snap.agents_ready
    else:
        assert unbacked <= snap.abandon_budget


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(("progressive", "predictive")), snap=snapshots())
def test_zero_budget_means_only_agent_backed_calls(name: str, snap: Snapshot) -> None:
    zero = Snapshot(**{**{f: getattr(snap, f) for f in snap.__slots__}, "abandon_budget": 0})
    decision = warmed(name, PacingSettings(), 20).decide(1000.0, zero)
    assert decision.calls <= backed_calls(zero)
