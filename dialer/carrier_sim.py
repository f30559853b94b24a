"""The carrier simulator: a SIP UAS on our own core that answers by configured shares.

`plan_call` is pure (seeded draws: human, machine, busy, no answer, failed; ring and hold times);
`CarrierSimulator` is the asyncio service that plays each plan against incoming INVITEs.
"""

from __future__ import annotations

import asyncio
import math
import random
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from dialer.sip.agent import AgentConfig, UserAgent
from dialer.sip.dialog import LocalEndpoint
from dialer.sip.events import CallEnded, CallOffered, Event
from dialer.sip.sdp import build_answer, build_offer, parse_sdp
from dialer.sip.timers import TimerConfig
from dialer.sip.transport import Driver, TcpTransport, UdpTransport, bind_tcp, bind_udp
from dialer.sip.uas import InboundCall

NO_ANSWER_REASON = ("reason", 'Q.850;cause=19;text="No answer from user"')
ANSWER_KIND_HEADER = "x-sim-answer"


class CallKind(StrEnum):
    """What the simulated callee does."""

    HUMAN = "human"
    MACHINE = "machine"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class CarrierProfile:
    """Shares (fractions summing to 1) and lognormal durations (mean, coefficient of variation)."""

    human: float = 0.35
    machine: float = 0.15
    busy: float = 0.10
    no_answer: float = 0.30
    failed: float = 0.10
    post_dial_s: float = 0.3
    ring_mean_s: float = 8.0
    ring_cv: float = 0.5
    human_hold_mean_s: float = 60.0
    human_hold_cv: float = 0.9
    machine_hold_mean_s: float = 20.0
    machine_hold_cv: float = 0.3
    no_answer_max_ring_s: float = 120.0
    failed_code: int = 500

    def shares(self) -> dict[CallKind, float]:
        return {
            CallKind.HUMAN: self.human,
            CallKind.MACHINE: self.machine,
            CallKind.BUSY: self.busy,
            CallKind.NO_ANSWER: self.no_answer,
            CallKind.FAILED: self.failed,
        }

    def validate(self) -> list[str]:
        """Problems with this profile (empty when usable)."""
        problems = [
            f"{k} share {v} is outside [0, 1]" for k, v in self.shares().items() if not 0 <= v <= 1
        ]
        total = sum(self.shares().values())
        if abs(total - 1.0) > 1e-6:
            problems.append(f"shares sum to {total:.4f}, not 1")
        means = (self.ring_mean_s, self.human_hold_mean_s, self.machine_hold_mean_s)
        if min(means) <= 0 or min(self.ring_cv, self.human_hold_cv, self.machine_hold_cv) < 0:
            problems.append("durations need a positive mean and a non-negative CV")
        return problems


@dataclass(frozen=True, slots=True)
class CallPlan:
    """What one simulated call will do, drawn up front."""

    kind: CallKind
    post_dial_s: float
    ring_s: float
    hold_s: float


def lognormal(rng: random.Random, mean: float, cv: float) -> float:
    """A lognormal draw with the given mean and coefficient of variation."""
    if cv <= 0:
        return mean
    sigma2 = math.log(1 + cv * cv)
    return rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))


def plan_call(profile: CarrierProfile, rng: random.Random) -> CallPlan:
    """Draw one call's behaviour (pure: same seed, same plans)."""
    kinds = list(profile.shares())
    kind = rng.choices(kinds, weights=[profile.shares()[k] for k in kinds])[0]
    ring_s = lognormal(rng, profile.ring_mean_s, profile.ring_cv)
    if kind == CallKind.NO_ANSWER:
        ring_s = profile.no_answer_max_ring_s
    elif kind in (CallKind.BUSY, CallKind.FAILED):
        ring_s = 0.0
    hold_s = 0.0
    if kind == CallKind.HUMAN:
        hold_s = lognormal(rng, profile.human_hold_mean_s, profile.human_hold_cv)
    elif kind == CallKind.MACHINE:
        hold_s = lognormal(rng, profile.machine_hold_mean_s, profile.machine_hold_cv)
    return CallPlan(kind, profile.post_dial_s, ring_s, hold_s)


class CarrierSimulator:
    """Listens on host:port (UDP or TCP) and plays a drawn `CallPlan` for every INVITE."""

    def __init__(
        self,
        profile: CarrierProfile,
        *,
        host: str = "127.0.0.1",
        port: int = 5070,
        transport: str = "udp",
        seed: int | None = None,
        timers: TimerConfig | None = None,
    ) -> None:
        self.profile = profile
        self.host = host
        self.requested_port = port
        self.tcp = transport.lower() == "tcp"
        self.rng = random.Random(seed)
        self.timers = timers or TimerConfig()
        self.port = port
        self.planned: Counter[str] = Counter()
        self.ended: Counter[str] = Counter()
        self.agent: UserAgent | None = None
        self._driver: Driver | None = None
        self._transport: UdpTransport | TcpTransport | None = None
        self._handles: dict[str, list[asyncio.TimerHandle]] = {}

    async def start(self) -> None:
        sock = (
            bind_tcp(self.host, self.requested_port)
            if self.tcp
            else bind_udp(self.host, self.requested_port)
        )
        self.port = int(sock.getsockname()[1])
        endpoint = LocalEndpoint(
            self.host, self.port, "TCP" if self.tcp else "UDP", "dialer-carrier-sim", "carrier"
        )
        self.agent = UserAgent(AgentConfig(endpoint, self.tcp, self.timers, accept_calls=True))
        self._driver = Driver(self.agent, self._on_event)
        if self.tcp:
            self._transport = await TcpTransport.start(sock, self._driver)
        else:
            self._transport = await UdpTransport.start(sock, self._driver)

    async def close(self) -> None:
        for handles in self._handles.values():
            for handle in handles:
                handle.cancel()
        if self._transport is not None:
            await self._transport.close()

    def report(self) -> dict[str, object]:
        stats = dict(self.agent.stats) if self.agent is not None else {}
        return {"planned": dict(self.planned), "ended": dict(self.ended), "core": stats}

    def _on_event(self, event: Event) -> None:
        if isinstance(event, CallOffered):
            self._play(event)
        elif isinstance(event, CallEnded):
            self.ended[event.outcome.value] += 1
            for handle in self._handles.pop(event.call_id, []):
                handle.cancel()

    def _later(self, call_id: str, delay_s: float, action: Callable[[float], None]) -> None:
        loop = asyncio.get_running_loop()
        handle = loop.call_later(delay_s, self._run, action)
        self._handles.setdefault(call_id, []).append(handle)

    def _run(self, action: Callable[[float], None]) -> None:
        assert self._driver is not None
        action(self._driver.now())
        self._driver.flush()

    def _play(self, offer: CallOffered) -> None:
        assert self.agent is not None
        call = self.agent.calls.get(offer.call_id)
        if not isinstance(call, InboundCall):
            return
        plan = plan_call(self.profile, self.rng)
        self.planned[plan.kind.value] += 1
        pdd, cid = plan.post_dial_s, offer.call_id
        if plan.kind == CallKind.BUSY:
            self._later(cid, pdd, lambda now: call.reject(now, 486))
            return
        if plan.kind == CallKind.FAILED:
            self._later(cid, pdd, lambda now: call.reject(now, self.profile.failed_code))
            return
        self._later(cid, pdd, call.ring)
        if plan.kind == CallKind.NO_ANSWER:
            self._later(
                cid, pdd + plan.ring_s, lambda now: call.reject(now, 480, (NO_ANSWER_REASON,))
            )
            return
        sdp = self._answer_sdp(offer.sdp)
        extra = ((ANSWER_KIND_HEADER, plan.kind.value),)
        self._later(cid, pdd + plan.ring_s, lambda now: call.answer(now, sdp, extra))
        self._later(cid, pdd + plan.ring_s + plan.hold_s, call.hangup)

    def _answer_sdp(self, offer_body: bytes) -> bytes:
        session = secrets.randbelow(10**9)
        offer = parse_sdp(offer_body) if offer_body else None
        answer = build_answer(offer, self.host, 30000, session) if offer is not None else None
        return answer or build_offer(self.host, 30000, session)
