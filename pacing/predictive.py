"""Our predictive controller: dial for the agents about to be free, within the abandon budget.

At most once per simulated second (and on agent-backed events in between) it forecasts, for each
second τ of the next HORIZON_S seconds, the deficit X_τ = humans answering by τ − busy agents free
by τ + grace (per call in flight from its elapsed ringing time, per busy agent from its elapsed
talk or wrap-up), exactly (pacing/outlook.py). New dials are added one at a time while

* the new dial's **marginal risk** — the abandons it adds, its own human's or the later human's
  whose agent it takes, per expected human — stays at or below a threshold θ, and θ follows the
  campaign's abandon slack (aim − abandons, aim = cap × answers less a reserve of a few standard
  deviations): budget earned and not spent raises θ, overspending lowers it (integral control
  toward an aim just under the cap); and
* the **hard guard** holds: the chance that abandons overflow the ledger's remaining allowance
  (floor(cap × answers) − abandons, handed in as `abandon_budget`, less a reserve for AMD false
  positives, and a burst reserve growing with √(humans expected)) stays below ε.

Busy agents' freeing probabilities are discounted by `Tuning.free_scale` (a calibration: the raw
forecast under-counted abandons by about a third) for the marginal risk, and much further by
`Tuning.guard_free_scale` for the guard, which must hold when many agents free later than
forecast at once (the independent-trial outlook cannot see such a correlated miss).

AMD false positives are abandons no dial decision caused. Their share (configured per campaign,
then observed) sets a reserve against a run of them above their mean: the ruin reserve of a
random walk, kept out of both θ's aim and the guard's allowance.

Warm-up: until the talk model has seen enough completed talks (the first to complete are the
short ones, so an early talk model over-forecasts agents freeing), the same plan runs cautiously:
talking agents are not counted as freeing within the horizon, agents in wrap-up only once the
wrap-up model has its own observations, and the human share is its upper confidence bound (all
of it, 1, before any call has resolved: every dial then needs a ready agent, i.e. progressive).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from config.vocabulary import AgentState, DialMode
from pacing import model
from pacing.controller import backed_calls, clamp_calls
from pacing.estimators import Resolution
from pacing.events import AgentChanged, Decision, PacingEvent, PacingSettings, Snapshot
from pacing.outlook import Outlook
from pacing.tracker import Tracker

TALK, WRAP = 1, 2
STATE_CODES = {AgentState.ON_CALL: TALK, AgentState.WRAP_UP: WRAP}
HORIZON_S = 20


@dataclass(frozen=True, slots=True)
class Tuning:
    """The predictive controller's knobs (defaults are the benchmarked ones)."""

    grace_s: float = 2.0
    warmup_answers: int = 20
    warmup_talks_per_agent: float = 1.0
    warmup_wraps: int = 20
    warmup_share_z: float = 2.0
    reserve: float = 2.0
    reserve_sd: float = 0.4
    reserve_fp_sd: float = 2.0
    theta: float = 0.022
    theta_min: float = 0.002
    theta_max: float = 0.2
    slack_scale: float = 2.0
    slack_scale_sd: float = 0.3
    epsilon: float = 0.002
    guard_reserve: float = 1.5
    guard_reserve_sd: float = 0.4
    guard_union: bool = False
    free_scale: float = 0.8
    guard_free_scale: float = 0.4
    replan_s: float = 1.0
    fp_guard_answers: int = 200
    fp_prior_answers: float = 300.0
    fp_ruin_log: float = 3.0
    fp_unknown_rate: float = 0.02


@dataclass(frozen=True, slots=True)
class Plan:
    """One full decision: calls to place and the numbers behind them."""

    calls: int
    risk: float
    overflow_p: float
    expected_free: float
    theta: float


class PredictiveController:
    """Marginal-risk threshold dialing under an exact guard on the abandon allowance."""

    name = "predictive"
    mode = DialMode.PREDICTIVE

    def __init__(
        self, settings: PacingSettings | None = None, tuning: Tuning | None = None
    ) -> None:
        self.settings = settings or PacingSettings()
        self.tuning = tuning or Tuning()
        self.tracker = Tracker()
        self.agent_slot: dict[int, int] = {}
        self.codes = np.zeros(0, dtype=np.int8)
        self.since = np.zeros(0, dtype=np.float64)
        self.tables_due_s = -math.inf
        self.calls_due_s = -math.inf
        self.next_plan_s = -math.inf
        self.talk_tab = np.zeros((1, model.HORIZON_STEPS))
        self.wrap_tab = np.zeros((1, model.HORIZON_STEPS))
        self.wrap_tab_count = -1  # wrap-ups the wrap-up table was built from
        self.call_tab = np.zeros((1, model.HORIZON_STEPS))

    def observe(self, event: PacingEvent) -> None:
        self.tracker.observe(event)
        if isinstance(event, AgentChanged):
            slot = self.agent_slot.get(event.agent_id)
            if slot is None:
                slot = len(self.agent_slot)
                self.agent_slot[event.agent_id] = slot
                self.codes = np.append(self.codes, np.int8(0))
                self.since = np.append(self.since, 0.0)
            self.codes[slot] = STATE_CODES.get(event.state, 0)
            self.since[slot] = event.at_s

    def configure(self, settings: PacingSettings) -> None:
        self.settings = settings

    def _refresh(self, now: float) -> None:
        est = self.tracker.estimates
        if now >= self.calls_due_s:
            self.call_tab = model.call_table(est)[:, :HORIZON_S]
            self.calls_due_s = now + 30.0
        if now >= self.tables_due_s:
            self.talk_tab = model.talk_table(est, self.tuning.grace_s - 0.5)[:, :HORIZON_S]
            self._build_wrap_table()
            self.tables_due_s = now + (120.0 if est.talk.count < 200 else 600.0)

    def _build_wrap_table(self) -> None:
        est = self.tracker.estimates
        self.wrap_tab = model.wrap_table(est, self.tuning.grace_s - 0.5)[:, :HORIZON_S]
        self.wrap_tab_count = est.wrap.count

    def _agent_probs(
        self, now: float, *, talking: bool = True, wrapping: bool = True
    ) -> model.Array:
        """Per busy agent: P(free by each horizon step + grace), shaped (agents, steps); agents
        talking or in wrap-up are left out (never freeing) when not `talking` / `wrapping`."""
        elapsed = np.maximum(now - self.since, 0.0).astype(np.int64)
        empty = np.zeros((0, HORIZON_S))
        talk = self.talk_tab[np.minimum(elapsed[self.codes == TALK], model.TALK_ROWS - 1)]
        wrap = self.wrap_tab[np.minimum(elapsed[self.codes == WRAP], model.WRAP_ROWS - 1)]
        return np.concatenate([wrap if wrapping else empty, talk if talking else empty], axis=0)

    def _call_probs(self, now: float, call_tab: model.Array, in_flight: int) -> model.Array:
        """Per call in flight: P(a human answers by each horizon step), shaped (calls, steps).
        Calls the snapshot counts but no event announced yet are taken as just placed."""
        pending = self.tracker.pending
        placed = np.fromiter(pending.values(), dtype=np.float64, count=len(pending))
        placed = np.concatenate([placed, np.full(max(0, in_flight - len(pending)), now)])
        rows = np.minimum(((now - placed) / model.CALL_ROW_S).astype(np.int64), model.CALL_ROWS - 1)
        probs = call_tab[np.maximum(rows, 0)]
        return probs[probs[:, -1] > 1e-9]

    def warming_up(self, snap: Snapshot) -> bool:
        """True until the talk model has seen enough completed talks to forecast talking agents."""
        t = self.tuning
        talks = self.tracker.estimates.talk.count
        enough_talks = max(10.0, t.warmup_talks_per_agent * snap.agents_staffed)
        return snap.answered_humans < t.warmup_answers or talks < enough_talks

    def _warm_p_human(self) -> float:
        """The human share used while warming up: its upper confidence bound."""
        shares = self.tracker.estimates.shares
        return shares.upper_bound(Resolution.HUMAN, self.tuning.warmup_share_z)

    def fp_share(self, snap: Snapshot) -> float:
        """AMD false positives per live answer: abandons no pacing decision caused, shrunk toward
        the campaign's configured rate (`amd_false_positive_rate`; a typical AMD's share when
        that is unknown) while answers are few."""
        unexplained = self._unexplained_abandons(snap)
        prior_n = self.tuning.fp_prior_answers
        configured = self.settings.amd_false_positive_rate
        prior = (self.tuning.fp_unknown_rate if configured is None else configured) * prior_n
        return (unexplained + prior) / (snap.answered_humans + prior_n)

    def fp_ruin_reserve(self, snap: Snapshot) -> float:
        """Abandons to keep for a run of AMD false positives above their mean from here on.

        The campaign's margin under the cap, cap × answers − abandons, drifts by cap − f per
        answer with variance f(1 − f) from false positives alone (f their share); a random walk
        with that drift falls d below its start with probability exp(−2(cap − f)d / f(1 − f)),
        so keeping d = L · f(1 − f) / 2(cap − f) holds that chance at e^−L."""
        f = self.fp_share(snap)
        if f <= 0.0:
            return 0.0
        drift = max(self.settings.target_abandon_rate - f, 0.002)
        return self.tuning.fp_ruin_log * f * (1.0 - f) / (2.0 * drift)

    def theta_now(self, snap: Snapshot) -> float:
        """The marginal risk a new dial may carry: rises with slack earned, falls when overspent."""
        t = self.tuning
        allowed = self.settings.target_abandon_rate * snap.answered_humans
        sd = math.sqrt(allowed)
        fp_sd = math.sqrt(self._unexplained_abandons(snap))
        reserve = t.reserve + t.reserve_sd * sd + t.reserve_fp_sd * fp_sd
        reserve += self.fp_ruin_reserve(snap)
        slack = allowed - reserve - snap.abandoned
        scale = t.slack_scale + t.slack_scale_sd * sd
        return min(t.theta_max, max(t.theta_min, t.theta * math.exp(slack / scale)))

    def _unexplained_abandons(self, snap: Snapshot) -> int:
        """Abandons the ledger counts that no dial of ours caused: AMD false positives."""
        return max(0, snap.abandoned - self.tracker.abandoned)

    def _allowance(self, snap: Snapshot, calls: model.Array, new_humans: float) -> int:
        """Abandons the guard may risk: the ledger's budget less the AMD false positives expected
        among the humans the outlook expects, their ruin reserve, and a burst reserve growing
        with those humans."""
        t = self.tuning
        humans = (float(calls[:, -1].sum()) if calls.size else 0.0) + new_humans
        coming_fps = math.ceil(self.fp_share(snap) * humans - 1e-9)
        burst = t.guard_reserve + t.guard_reserve_sd * math.sqrt(humans)
        held = math.floor(burst + self.fp_ruin_reserve(snap))
        return max(0, snap.abandon_budget - coming_fps - held)

    def _overflow(self, outlook: Outlook, over: int) -> float:
        """P(abandons overflow the allowance): the worst step, or the union bound over steps, of
        the guard's outlook (the last HORIZON_S steps: the stressed copy when one is stacked)."""
        tail = outlook.tail(over)[-HORIZON_S:]
        return float(tail.sum() if self.tuning.guard_union else tail.max())

    def decide(self, now: float, snap: Snapshot) -> Decision:
        s = self.settings
        backed = clamp_calls(backed_calls(snap), snap, s)
        cap = clamp_calls(10**6, snap, s)
        if cap <= backed:
            return Decision(backed, f"no room beyond {backed} agent-backed calls → place {backed}")
        t = self.tuning
        if now < self.next_plan_s:
            text = f"between plans: {backed} agent-backed calls → place {backed}"
            return Decision(backed, text, 1.0)
        self.next_plan_s = now + t.replan_s
        warm = self.warming_up(snap)
        plan = self._plan(now, snap, backed, cap, warm=warm)
        p_h = self.tracker.estimates.shares.share(Resolution.HUMAN)
        prefix = ""
        if warm:
            talks = self.tracker.estimates.talk.count
            prefix = (
                f"warming up ({snap.answered_humans} answers, {talks} talks: talking agents not"
                f" counted as freeing, p_human bound {self._warm_p_human():.2f}): "
            )
        text = prefix + (
            f"{plan.expected_free:.1f} agents expected free within {HORIZON_S} s"
            f" + {snap.agents_ready} ready, p_human {p_h:.2f}, {snap.calls_in_flight} calls in"
            f" flight, abandon budget {snap.abandon_budget}{self._held_text(snap)}"
            f" → place {plan.calls} (next dial's"
            f" abandon risk {plan.risk:.1%} vs θ {plan.theta:.1%},"
            f" P(over budget) {plan.overflow_p:.2%})"
        )
        level = (snap.calls_in_flight + plan.calls) / max(
            1.0, plan.expected_free + snap.agents_ready
        )
        return Decision(plan.calls, text, level)

    def _held_text(self, snap: Snapshot) -> str:
        held = self.fp_ruin_reserve(snap)
        if held <= 0.0:
            return ""
        unknown = ""
        if self.settings.amd_false_positive_rate is None:
            unknown = f", their share unknown: {self.tuning.fp_unknown_rate:.0%} assumed"
        return f" ({held:.1f} held for AMD false positives{unknown})"

    def _plan(self, now: float, snap: Snapshot, backed: int, cap: int, *, warm: bool) -> Plan:
        """Add new dials while the next one's risk ≤ θ and the allowance guard holds."""
        self._refresh(now)
        call_tab = self.call_tab
        if warm:
            est = self.tracker.estimates
            p_bound = max(self._warm_p_human(), est.shares.share(Resolution.HUMAN))
            call_tab = model.call_table(est, p_bound)[:, :HORIZON_S]
            wrapping = est.wrap.count >= self.tuning.warmup_wraps
            if wrapping and est.wrap.count != self.wrap_tab_count:
                self._build_wrap_table()  # while warming up, follow every new wrap-up
            agents = self._agent_probs(now, talking=False, wrapping=wrapping)
        else:
            agents = self._agent_probs(now)
        calls = self._call_probs(now, call_tab, snap.calls_in_flight)
        h0 = call_tab[0]
        p_h = max(float(h0[-1]), 1e-6)
        ready = snap.agents_ready
        expected_free = float(agents[:, -1].sum())
        ratio_cap = math.floor(self.settings.max_ratio * max(1.0, expected_free + ready))
        top = max(backed, min(cap, ratio_cap - snap.calls_in_flight))
        allowance = self._allowance(snap, calls, top * p_h)
        theta = self.theta_now(snap)
        if (
            allowance == 0
            and self._unexplained_abandons(snap) > 0
            and snap.answered_humans < self.tuning.fp_guard_answers
        ):
            theta = 0.0  # AMD false positives are spending the budget: risk-free dials only
        over = allowance + 1
        t = self.tuning
        freeing, dial = agents * t.free_scale, h0
        if t.guard_free_scale != t.free_scale:  # the guard's own, more pessimistic, outlook
            freeing = np.hstack([freeing, agents * t.guard_free_scale])
            calls, dial = np.hstack([calls, calls]), np.concatenate([h0, h0])
        outlook = Outlook(calls, freeing, ready, top, waiting=snap.humans_waiting)
        n, risk, overflow_p = 0, 0.0, self._overflow(outlook, over)
        while n < top:
            risk = outlook.marginal_risk(h0) / p_h
            if n >= backed and risk > theta:
                break
            outlook.add_dial(dial)
            after = self._overflow(outlook, over)
            if n >= backed and after > t.epsilon:
                break
            n, overflow_p = n + 1, after
        return Plan(n, risk, overflow_p, expected_free, theta)
