"""Unit tests of the controllers with explicit `now`: explanations, live settings, Erlang-B."""

from __future__ import annotations

import pytest

from config.vocabulary import DialMode
from pacing import registry
from pacing.baselines import erlang_b, erlang_b_load
from pacing.events import PacingSettings, Snapshot
from pacing.pacer import Pacer

SNAP = Snapshot(
    agents_ready=4,
    agents_staffed=10,
    calls_in_flight=1,
    humans_waiting=0,
    lines_busy=7,
    lines_total=40,
    abandon_budget=3,
    answered_humans=100,
    abandoned=1,
)


def test_registry_has_every_mode_and_baseline() -> None:
    assert set(registry.REGISTRY) == {
        "preview",
        "progressive",
        "power",
        "predictive",
        "adapt",
        "erlang",
    }
    with pytest.raises(KeyError, match="known"):
        registry.create("nope")


def test_progressive_places_one_call_per_free_ready_agent() -> None:
    decision = registry.create("progressive").decide(10.0, SNAP)
    assert decision.calls == 3
    assert "4 agents ready" in decision.explanation


def test_power_keeps_ratio_times_ready_in_flight_within_budget() -> None:
    power = registry.create("power", PacingSettings(ratio=2.0))
    assert power.decide(10.0, SNAP).calls == 6  # round(2 × 4) − 1 = 7, cut to 3 backed + 3 budget


def test_live_settings_apply_at_the_next_decision() -> None:
    pacer = Pacer(PacingSettings(mode=DialMode.PROGRESSIVE))
    assert pacer.decide(1.0, SNAP).calls == 3
    pacer.configure(PacingSettings(mode=DialMode.POWER, ratio=1.5))
    assert pacer.mode is DialMode.POWER
    assert pacer.decide(2.0, SNAP).calls == 5  # round(1.5 × 4) − 1
    pacer.configure(PacingSettings(mode=DialMode.POWER, ratio=1.5, max_lines_per_agent=0.5))
    assert pacer.decide(3.0, SNAP).calls == 4  # 5 lines for 10 agents, 1 in flight


def test_predictive_warms_up_as_progressive() -> None:
    decision = registry.create("predictive").decide(1.0, SNAP)
    assert decision.calls == 3
    assert "warming up" in decision.explanation


def test_erlang_b_inverse() -> None:
    load = erlang_b_load(10, 0.03)
    assert erlang_b(10, load) == pytest.approx(0.03, rel=1e-6)
    assert 5.0 < load < 6.0
