"""The exact outlook against brute-force enumeration, and the predictive controller's feedback."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.vocabulary import AgentState, AmdResult
from pacing import model
from pacing.controller import backed_calls
from pacing.estimators import Resolution, ShareEstimator
from pacing.events import (
    AgentChanged,
    CallAbandoned,
    CallAnswered,
    CallPlaced,
    PacingSettings,
    Snapshot,
)
from pacing.outlook import Outlook
from pacing.predictive import PredictiveController, Tuning
from pacing.tracker import Estimates
from tests.pacing.test_invariants import warmed

EXACT_AMD = PacingSettings(amd_false_positive_rate=0.0)  # AMD off, or known never to err


def step_pairs(low: float = 0.05, most: int = 4) -> st.SearchStrategy[list[tuple[float, float]]]:
    """Up to `most` rows of two-step probabilities, each at least `low`."""
    p = st.floats(low, 0.95)
    return st.lists(st.tuples(p, p), max_size=most)


def as_rows(pairs: list[tuple[float, float]]) -> np.ndarray:
    """Rows of P(by step) for an outlook: sorted, so never falling with the step."""
    return np.sort(np.array(pairs, dtype=np.float64).reshape(-1, 2), axis=1)


def brute_tail(
    calls: np.ndarray, agents: np.ndarray, ready: int, waiting: int, over: int
) -> list[float]:
    """P(humans − agents freed + waiting ≥ ready + over) per step, by enumerating outcomes."""
    steps = calls.shape[1]
    out = []
    for j in range(steps):
        probs = [*calls[:, j], *agents[:, j]]
        signs = [1] * calls.shape[0] + [-1] * agents.shape[0]
        total = 0.0
        for bits in itertools.product((0, 1), repeat=len(probs)):
            p = 1.0
            for b, q in zip(bits, probs, strict=True):
                p *= q if b else 1.0 - q
            x = waiting + sum(s * b for s, b in zip(signs, bits, strict=True))
            total += p if x >= ready + over else 0.0
        out.append(total)
    return out


@settings(max_examples=25, deadline=None)
@given(
    calls=step_pairs(),
    agents=step_pairs(most=3),
    ready=st.integers(0, 3),
    waiting=st.integers(0, 2),
    over=st.integers(0, 2),
)
def test_tail_matches_enumeration(
    calls: list[tuple[float, float]],
    agents: list[tuple[float, float]],
    ready: int,
    waiting: int,
    over: int,
) -> None:
    c, a = as_rows(calls), as_rows(agents)
    outlook = Outlook(c, a, ready, extra=2, waiting=waiting)
    expected = brute_tail(c, a, ready, waiting, over)
    assert outlook.tail(over) == pytest.approx(expected, abs=1e-9)
    h0 = np.array([0.1, 0.25])
    outlook.add_dial(h0)
    with_dial = brute_tail(np.vstack([c, h0]), a, ready, waiting, over)
    assert outlook.tail(over) == pytest.approx(with_dial, abs=1e-9)


def test_marginal_risk_is_the_worst_steps_added_overflow() -> None:
    calls = np.array([[0.2, 0.4], [0.1, 0.3]])
    agents = np.array([[0.5, 0.9]])
    outlook = Outlook(calls, agents, 1, extra=1)
    h0 = np.array([0.1, 0.25])
    tail = np.array(brute_tail(calls, agents, 1, 0, 0))
    assert outlook.marginal_risk(h0) == pytest.approx(float((h0 * tail).max()))


@settings(max_examples=25, deadline=None)
@given(
    calls=step_pairs(),
    agents=step_pairs(low=0.25, most=3),
    scale=st.floats(0.2, 1.0),  # agents stay likely enough (≥ 0.05) to be convolved, not pooled
    ready=st.integers(0, 3),
)
def test_stacked_outlooks_read_as_the_separate_ones(
    calls: list[tuple[float, float]],
    agents: list[tuple[float, float]],
    scale: float,
    ready: int,
) -> None:
    """The controller stacks a stressed outlook after the marginal one; each half must read
    exactly as that outlook built alone, before and after a dial."""
    c, a = as_rows(calls), as_rows(agents)
    h0 = np.array([0.1, 0.25])
    alone = Outlook(c, a, ready, extra=1)
    stressed = Outlook(c, a * scale, ready, extra=1)
    stacked = Outlook(np.hstack([c, c]), np.hstack([a, a * scale]), ready, extra=1)
    for _ in range(2):
        for over in range(3):
            both = stacked.tail(over)
            assert both[:2] == pytest.approx(alone.tail(over), abs=1e-12)
            assert both[2:] == pytest.approx(stressed.tail(over), abs=1e-12)
        assert stacked.marginal_risk(h0) == pytest.approx(alone.marginal_risk(h0), abs=1e-12)
        alone.add_dial(h0)
        stressed.add_dial(h0)
        stacked.add_dial(np.concatenate([h0, h0]))


def test_unlikely_agents_are_pooled_close_to_exact() -> None:
    agents = np.full((40, 2), 0.01)
    agents[:, 1] = 0.03
    calls = np.array([[0.3, 0.6], [0.2, 0.5]])
    pooled = Outlook(calls, agents, 0, extra=0).tail(1)
    rows = [[0.3, 0.6], [0.2, 0.5]]
    exact = Outlook(np.array(rows), np.empty((0, 2)), 0, extra=0)
    for a in agents:
        exact._down(a)
    assert pooled == pytest.approx(exact.tail(1), rel=0.02)
    assert (pooled >= exact.tail(1) - 1e-12).all()  # the Poisson pool errs on the safe side


def snap(answers: int, abandons: int) -> Snapshot:
    return Snapshot(
        agents_ready=2,
        agents_staffed=10,
        calls_in_flight=3,
        humans_waiting=0,
        lines_busy=5,
        lines_total=40,
        abandon_budget=max(0, int(0.03 * answers) - abandons),
        answered_humans=answers,
        abandoned=abandons,
    )


def paced(abandons: int) -> PredictiveController:
    """A controller that saw `abandons` of its own calls abandoned (no AMD false positive)."""
    controller = PredictiveController()
    for call in range(abandons):
        controller.observe(CallAbandoned(float(call), call))
    return controller


def test_threshold_rises_with_unspent_budget_and_falls_when_overspent() -> None:
    thrifty = paced(10).theta_now(snap(1000, 10))
    on_aim = paced(24).theta_now(snap(1000, 24))
    spent = paced(30).theta_now(snap(1000, 30))
    assert thrifty > on_aim > spent
    assert spent < Tuning().theta < thrifty


def test_burst_reserve_grows_with_the_humans_expected() -> None:
    controller = PredictiveController(EXACT_AMD, Tuning(guard_reserve=1.0, guard_reserve_sd=0.5))
    budget = snap(1000, 0)  # 30 abandons left, none of them AMD false positives
    few = np.full((4, 2), 0.25)  # one human expected → reserve floor(1 + 0.5) = 1
    many = np.full((64, 2), 0.25)  # sixteen → floor(1 + 2) = 3
    assert controller._allowance(budget, few, 0.0) == 29
    assert controller._allowance(budget, many, 0.0) == 27
    assert controller._allowance(snap(100, 0), many, 0.0) == 0  # 3 − 3


def test_discounting_agents_freeing_never_dials_more() -> None:
    plain = warmed("predictive", PacingSettings(), 20)
    cautious = warmed("predictive", PacingSettings(), 20)
    assert isinstance(plain, PredictiveController) and isinstance(cautious, PredictiveController)
    cautious.tuning = Tuning(free_scale=0.5)
    for agent in range(12):
        for controller in (plain, cautious):
            controller.observe(AgentChanged(500.0, agent, AgentState.ON_CALL))
    busy = Snapshot(3, 20, 2, 0, 14, 80, 10, 400, 2)
    assert cautious.decide(600.0, busy).calls <= plain.decide(600.0, busy).calls
    assert plain.decide(601.0, busy).calls > backed_calls(busy)  # the discount had room to bite


def test_share_bound_is_one_before_any_call_and_tightens_as_calls_resolve() -> None:
    shares = ShareEstimator({Resolution.HUMAN: 0.25, Resolution.NO_ANSWER: 0.75})
    assert shares.upper_bound(Resolution.HUMAN) == 1.0
    bounds = []
    for i in range(400):
        shares.add(Resolution.HUMAN if i % 4 == 0 else Resolution.NO_ANSWER)
        bounds.append(shares.upper_bound(Resolution.HUMAN))
    assert bounds[9] > bounds[99] > bounds[399] > shares.share(Resolution.HUMAN)
    assert bounds[399] < 0.35


def test_call_table_with_a_higher_human_share_forecasts_more_humans() -> None:
    est = Estimates()
    share = est.shares.share(Resolution.HUMAN)
    assert model.call_table(est, share) == pytest.approx(model.call_table(est))
    higher = model.call_table(est, 0.5)
    assert (higher >= model.call_table(est) - 1e-12).all()
    assert higher[0, -1] > model.call_table(est)[0, -1]


def team(talks_seen: int, agents: int = 20, talks_per_agent: float = 3.0) -> PredictiveController:
    """A controller that has learnt the answer share from 400 calls and seen `talks_seen` talks
    and wrap-ups complete (it warms up until `talks_per_agent` talks per agent); at t = 1165 s
    half the agents ended a talk and entered wrap-up, the rest are still talking."""
    controller = PredictiveController(tuning=Tuning(warmup_talks_per_agent=talks_per_agent))
    for agent in range(agents):
        controller.observe(AgentChanged(0.0, agent, AgentState.READY))
    for call in range(400):
        controller.observe(CallPlaced(float(call), call))
        amd = AmdResult.HUMAN if call % 4 == 0 else AmdResult.MACHINE
        controller.observe(CallAnswered(call + 9.0, call, amd))
    for k in range(talks_seen):
        agent, start = k % agents, 500.0 + k % 300
        talk_s, wrap_s = 60.0 + (37.0 * k) % 240.0, 10.0 + (13.0 * k) % 20.0
        controller.observe(AgentChanged(start, agent, AgentState.ON_CALL))
        controller.observe(AgentChanged(start + talk_s, agent, AgentState.WRAP_UP))
        controller.observe(AgentChanged(start + talk_s + wrap_s, agent, AgentState.READY))
    for agent in range(agents):
        controller.observe(AgentChanged(1000.0, agent, AgentState.ON_CALL))
        if agent % 2:
            controller.observe(AgentChanged(1165.0, agent, AgentState.WRAP_UP))
    return controller


def test_warm_up_counts_agents_in_wrap_up_once_their_model_has_data() -> None:
    nobody_ready = Snapshot(0, 20, 0, 0, 20, 80, 10, 400, 0)
    unknown_wraps, cold, warm = team(talks_seen=0), team(talks_seen=30), team(talks_seen=100)
    assert unknown_wraps.warming_up(nobody_ready) and cold.warming_up(nobody_ready)
    assert not warm.warming_up(nobody_ready)
    assert unknown_wraps.decide(1170.0, nobody_ready).calls == 0
    decision = cold.decide(1170.0, nobody_ready)
    assert decision.calls > 0
    assert "talking agents not counted as freeing" in decision.explanation
    assert warm.decide(1170.0, nobody_ready).calls >= decision.calls


def test_warm_up_is_progressive_until_calls_resolve_then_covers_ready_agents() -> None:
    ten_ready = Snapshot(10, 10, 0, 0, 0, 40, 1, 0, 0)
    fresh = PredictiveController()
    assert fresh.decide(0.0, ten_ready).calls == 10  # the human share could be anything yet
    learnt = team(talks_seen=0, agents=10)
    for agent in range(10):
        learnt.observe(AgentChanged(1170.0, agent, AgentState.READY))
    calls = learnt.decide(1170.0, ten_ready).calls
    assert learnt.warming_up(ten_ready) and 10 < calls < 40


def test_false_positives_spending_an_early_budget_leave_only_risk_free_dials() -> None:
    budget_spent = Snapshot(6, 20, 2, 0, 14, 80, 1, 100, 2)  # 2 abandons, budget 1 left
    by_amd = warmed("predictive", PacingSettings(), 20)  # it saw neither abandon: AMD errors
    by_pacing = warmed("predictive", PacingSettings(), 20)
    for call in (9001, 9002):
        by_pacing.observe(CallAbandoned(590.0, call))
    cautious = by_amd.decide(600.0, budget_spent)
    assert cautious.calls == 4  # 6 ready − 2 in flight: no human can miss an agent
    assert "θ 0.0%" in cautious.explanation
    assert by_pacing.decide(600.0, budget_spent).calls > cautious.calls


def test_false_positive_ruin_reserve_follows_the_configured_then_the_observed_share() -> None:
    tuning = Tuning(fp_ruin_log=3.0, fp_prior_answers=300.0)
    exact = PredictiveController(EXACT_AMD, tuning)
    configured = PredictiveController(PacingSettings(amd_false_positive_rate=0.02), tuning)
    assert exact.fp_ruin_reserve(snap(0, 0)) == 0.0  # no AMD errors expected nor seen
    # f = 0.02 against the 3 % cap: 3 × 0.02 × 0.98 / (2 × 0.01) = 2.94 abandons held
    assert configured.fp_ruin_reserve(snap(0, 0)) == pytest.approx(2.94)
    assert configured.fp_ruin_reserve(snap(0, 0)) > configured.fp_ruin_reserve(snap(3000, 0))
    # 30 false positives in 1,000 answers (the controller saw no abandon): the observed share
    # rules, the configured one only shrinks it; a share at the cap holds far more in reserve
    seen = snap(1000, 30)
    assert exact.fp_share(seen) == pytest.approx(30 / 1300)
    assert configured.fp_share(seen) == pytest.approx(36 / 1300)
    assert configured.fp_ruin_reserve(seen) > 10.0


def test_a_configured_amd_error_rate_holds_an_early_budget_back() -> None:
    early = Snapshot(2, 20, 10, 0, 30, 80, 3, 120, 0)  # 3 abandons allowed, none spent yet
    plain = warmed("predictive", EXACT_AMD, 20)
    with_amd = warmed("predictive", PacingSettings(amd_false_positive_rate=0.02), 20)
    assert isinstance(plain, PredictiveController) and isinstance(with_amd, PredictiveController)
    assert plain.theta_now(early) > with_amd.theta_now(early)
    held = with_amd.decide(600.0, early)
    assert held.calls <= plain.decide(600.0, early).calls
    # none seen in 120 answers: f = 0.02 × 300 / 420, held 3 f(1 − f) / 2(0.03 − f) ≈ 1.3
    assert "abandon budget 3 (1.3 held for AMD false positives)" in held.explanation


def test_an_unknown_amd_error_rate_is_taken_as_a_typical_amds_not_as_none() -> None:
    """Leaving the rate unset must not be the unsafe choice: it holds what 2 % would."""
    tuning = Tuning(fp_unknown_rate=0.02)
    unknown = PredictiveController(PacingSettings(), tuning)
    typical = PredictiveController(PacingSettings(amd_false_positive_rate=0.02), tuning)
    assert PacingSettings().amd_false_positive_rate is None
    for seen in (snap(0, 0), snap(500, 4), snap(2000, 50)):
        assert unknown.fp_share(seen) == typical.fp_share(seen)
        assert unknown.fp_ruin_reserve(seen) == typical.fp_ruin_reserve(seen)
    assert unknown.fp_ruin_reserve(snap(0, 0)) == pytest.approx(2.94)
    early = Snapshot(2, 20, 10, 0, 30, 80, 3, 120, 0)
    said = warmed("predictive", PacingSettings(), 20).decide(600.0, early).explanation
    assert "held for AMD false positives, their share unknown: 2% assumed" in said


def test_a_stressed_guard_never_dials_more() -> None:
    plain = warmed("predictive", PacingSettings(), 20)
    stressed = warmed("predictive", PacingSettings(), 20)
    assert isinstance(plain, PredictiveController) and isinstance(stressed, PredictiveController)
    plain.tuning = Tuning(theta_min=0.2, guard_free_scale=0.8)  # θ never binds: the guard does
    stressed.tuning = Tuning(theta_min=0.2, guard_free_scale=0.3)
    for agent in range(17):  # all busy agents ten seconds into wrap-up
        for controller in (plain, stressed):
            controller.observe(AgentChanged(590.0, agent, AgentState.WRAP_UP))
    tight = Snapshot(3, 20, 30, 0, 47, 200, 8, 400, 4)  # 30 calls ringing, 8 abandons left
    calm, wary = plain.decide(600.0, tight), stressed.decide(600.0, tight)
    assert backed_calls(tight) <= wary.calls < calm.calls
