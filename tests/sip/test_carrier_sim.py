"""The carrier simulator: pure seeded plans, and our trunk calling it over UDP and TCP."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime

import pytest

from compliance.permit import Permit, mint_operator_test_permit
from config.vocabulary import CallOutcome, Channel
from dialer.carrier_sim import CallKind, CarrierProfile, CarrierSimulator, plan_call
from dialer.sip.events import CallAnswered, CallEnded
from dialer.sip.timers import TimerConfig
from dialer.sip.trunk import Trunk, TrunkCall, TrunkConfig

FAST = TimerConfig(t1_s=0.1, t2_s=0.4, t4_s=0.5)


def quick(human: float, machine: float, busy: float, failed: float) -> CarrierProfile:
    """A profile with the given shares, no no-answers, and durations short enough for tests."""
    return CarrierProfile(
        human=human,
        machine=machine,
        busy=busy,
        no_answer=0.0,
        failed=failed,
        post_dial_s=0.01,
        ring_mean_s=0.05,
        human_hold_mean_s=0.1,
        machine_hold_mean_s=0.1,
    )


def test_plans_follow_shares_and_are_seeded() -> None:
    profile = CarrierProfile()
    plans = [plan_call(profile, random.Random(7)) for _ in range(3)]
    assert plans[0] == plans[1] == plans[2]
    rng = random.Random(1)
    drawn = [plan_call(profile, rng) for _ in range(4000)]
    counts = Counter(p.kind for p in drawn)
    for kind, share in profile.shares().items():
        assert abs(counts[kind] / 4000 - share) < 0.03, kind
    assert all(
        p.ring_s == profile.no_answer_max_ring_s for p in drawn if p.kind == CallKind.NO_ANSWER
    )
    assert all(p.hold_s > 0 for p in drawn if p.kind in (CallKind.HUMAN, CallKind.MACHINE))
    humans = [p.hold_s for p in drawn if p.kind == CallKind.HUMAN]
    assert (
        abs(sum(humans) / len(humans) - profile.human_hold_mean_s)
        < 0.15 * profile.human_hold_mean_s
    )


def test_profile_validation() -> None:
    assert CarrierProfile().validate() == []
    assert CarrierProfile(human=0.9).validate()
    assert CarrierProfile(ring_mean_s=0).validate()


def _permit(i: int = 0) -> Permit:
    return mint_operator_test_permit(
        phone_e164=f"+1555000{i:04d}",
        channel=Channel.CALL,
        operator="pytest",
        now=datetime.now(UTC),
    )


async def _finish(call: TrunkCall) -> CallEnded:
    async with asyncio.timeout(15):
        async for event in call:
            if isinstance(event, CallAnswered):
                pass  # the simulator hangs up after its drawn hold time
        return await call.wait_ended()


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_trunk_against_simulator_matches_its_plans(transport: str) -> None:
    profile = quick(human=0.4, machine=0.2, busy=0.2, failed=0.2)
    sim = CarrierSimulator(profile, port=0, transport=transport, seed=3, timers=FAST)
    await sim.start()
    try:
        config = TrunkConfig("127.0.0.1", sim.port, transport=transport, max_cps=200, timers=FAST)
        async with Trunk(config) as trunk:
            calls = [await trunk.originate(_permit(i)) for i in range(30)]
            ended = await asyncio.gather(*(_finish(c) for c in calls))
    finally:
        await sim.close()
    outcomes = Counter(e.outcome for e in ended)
    planned = sim.planned
    assert outcomes[CallOutcome.ANSWERED] == planned["human"] + planned["machine"]
    assert outcomes[CallOutcome.BUSY] == planned["busy"]
    assert outcomes[CallOutcome.FAILED] == planned["failed"]
    assert all(e.hangup_by.value == "them" for e in ended if e.outcome == CallOutcome.ANSWERED)


async def test_no_answer_by_reason_header_and_by_our_cancel() -> None:
    sim = CarrierSimulator(
        CarrierProfile(
            human=0, machine=0, busy=0, no_answer=1.0, failed=0, no_answer_max_ring_s=0.3
        ),
        port=0,
        seed=1,
        timers=FAST,
    )
    await sim.start()
    try:
        async with Trunk(TrunkConfig("127.0.0.1", sim.port, timers=FAST)) as trunk:
            by_network = await _finish(await trunk.originate(_permit(1), ring_timeout_s=5))
            by_us = await _finish(await trunk.originate(_permit(2), ring_timeout_s=0.1))
    finally:
        await sim.close()
    assert (by_network.outcome, by_network.sip_code, by_network.q850_cause) == (
        CallOutcome.NO_ANSWER,
        480,
        19,
    )
    assert (by_us.outcome, by_us.sip_code) == (CallOutcome.NO_ANSWER, 487)


async def test_options_keepalive_against_simulator() -> None:
    sim = CarrierSimulator(CarrierProfile(), port=0, seed=1, timers=FAST)
    await sim.start()
    try:
        config = TrunkConfig("127.0.0.1", sim.port, options_interval_s=0.05, timers=FAST)
        async with Trunk(config) as trunk, asyncio.timeout(5):
            while trunk.last_options is None:  # noqa: ASYNC110 (the trunk keeps the last answer)
                await asyncio.sleep(0.01)
            answered = trunk.last_options
    finally:
        await sim.close()
    assert answered.sip_code == 200 and answered.rtt_s < 1.0
