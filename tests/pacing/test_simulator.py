"""Simulator properties: determinism, progressive's closed form, no abandons without overdial."""

from __future__ import annotations

import math

import pytest

from pacing import registry
from pacing.baselines import CampaignFacts
from pacing.evaluation import Cell, campaign_settings
from pacing.scenarios import SimConfig, scenario
from pacing.simulator import simulate


def _lognormal_mean_capped(mean_s: float, cv: float, cap_s: float) -> float:
    """E[min(X, cap)] for a lognormal X with the given mean and CV."""
    sigma = math.sqrt(math.log1p(cv * cv))
    mu = math.log(mean_s) - sigma * sigma / 2.0
    z = (math.log(cap_s) - mu) / sigma
    return mean_s * _phi(z - sigma) + cap_s * (1.0 - _phi(z))


def _phi(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def progressive_closed_form(c: SimConfig) -> float:
    """talk/(talk + wrap + W), W = the failed dials' holds before a human + the human's ring."""
    ring_s = _lognormal_mean_capped(c.ring_mean_s, c.ring_cv, c.no_answer_timeout_s - 0.5)
    p_na = 1.0 - c.p_human - c.p_machine - c.p_fail
    fail_hold_s = (c.fail_hold_min_s + c.fail_hold_max_s) / 2.0
    failed_s = (
        c.p_machine * (ring_s + c.amd_s) + c.p_fail * fail_hold_s + p_na * c.no_answer_timeout_s
    ) / (1.0 - c.p_human)
    wait_s = (1.0 - c.p_human) / c.p_human * failed_s + ring_s
    return c.talk_mean_s / (c.talk_mean_s + c.wrap_mean_s + wait_s)


def test_progressive_matches_the_closed_form_within_two_percent() -> None:
    config = scenario("steady", agents=50, hours=8.0)
    runs = [simulate(config, registry.create("progressive"), seed) for seed in range(2)]
    measured = sum(r.talk_fraction for r in runs) / len(runs)
    expected = progressive_closed_form(config)
    assert measured == pytest.approx(expected, rel=0.02)
    assert all(r.abandons == 0 for r in runs)


@pytest.mark.parametrize("name", ["progressive", "predictive", "adapt", "erlang", "power"])
def test_same_seed_same_numbers(name: str) -> None:
    config = scenario("drift", agents=10, hours=0.5)
    facts = CampaignFacts(agents=10)
    first = simulate(config, registry.create(name, facts=facts), 7).summary()
    second = simulate(config, registry.create(name, facts=facts), 7).summary()
    assert first == second


def test_different_seeds_differ() -> None:
    config = scenario("steady", agents=10, hours=0.5)
    a = simulate(config, registry.create("progressive"), 1).summary()
    b = simulate(config, registry.create("progressive"), 2).summary()
    assert a != b


@pytest.mark.parametrize("name", ["preview", "progressive"])
@pytest.mark.parametrize("scene", ["steady", "drift", "amd"])
def test_preview_and_progressive_abandon_only_through_amd_false_positives(
    name: str, scene: str
) -> None:
    run = simulate(scenario(scene, agents=10, hours=1.0), registry.create(name), 3)
    assert run.abandons == run.fp_abandons
    if scene != "amd":
        assert run.abandons == 0
    assert run.cap_violations == 0
    assert not run.cap_exceeded_by_pacing


def test_common_random_numbers_give_every_policy_the_same_leads() -> None:
    """Talk time depends only on the connect order: the first connects draw the same talks."""
    config = scenario("steady", agents=10, hours=0.25)
    slow = simulate(config, registry.create("preview"), 5)
    fast = simulate(config, registry.create("progressive"), 5)
    assert slow.dials < fast.dials
    assert slow.connects < fast.connects


def test_trunk_cap_is_respected() -> None:
    config = scenario("steady", agents=10, hours=0.5)
    run = simulate(config, registry.create("erlang", facts=CampaignFacts(agents=10)), 1)
    assert run.peak_lines <= config.trunk_lines
    assert run.cap_violations == 0


def test_the_bench_configures_each_scenarios_nominal_amd_error_share() -> None:
    for name, share in (("steady", 0.0), ("drift", 0.0), ("amd", 0.02)):
        config = scenario(name, agents=10, hours=1.0)
        settings = campaign_settings(config, Cell(name, 10, seed=0, ratio=1.5))
        assert settings.amd_false_positive_rate == share
        assert settings.ratio == 1.5
    capped = campaign_settings(config, Cell("amd", 10, seed=0), target_abandon_rate=0.05)
    assert capped.target_abandon_rate == 0.05 and capped.amd_false_positive_rate == 0.02
