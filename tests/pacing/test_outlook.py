"""The exact outlook against brute-force enumeration, and the predictive controller's feedback."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.vocabulary import AgentState
from pacing.controller import backed_calls
from pacing.events import AgentChanged, PacingSettings, Snapshot
from pacing.outlook import Outlook
from pacing.predictive import PredictiveController, Tuning
from tests.pacing.test_invariants import warmed

probabilities = st.floats(0.05, 0.95)


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
    calls=st.lists(st.tuples(probabilities, probabilities), max_size=4),
    agents=st.lists(st.tuples(probabilities, probabilities), max_size=3),
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
    c = np.sort(np.array(calls, dtype=np.float64).reshape(-1, 2), axis=1)
    a = np.sort(np.array(agents, dtype=np.float64).reshape(-1, 2), axis=1)
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


def test_threshold_rises_with_unspent_budget_and_falls_when_overspent() -> None:
    controller = PredictiveController()
    thrifty = controller.theta_now(snap(1000, 10))
    on_aim = controller.theta_now(snap(1000, 24))
    spent = controller.theta_now(snap(1000, 30))
    assert thrifty > on_aim > spent
    assert spent < controller.tuning.theta < thrifty


def test_burst_reserve_grows_with_the_humans_expected() -> None:
    controller = PredictiveController(tuning=Tuning(guard_reserve=1.0, guard_reserve_sd=0.5))
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
