"""Our predictive controller: dial for the agents about to be free, within the abandon budget.

Each decision forecasts, over the next HORIZON_STEPS seconds, (1) the supply of free agents:
ready now plus agents whose wrap-up (or talk and then wrap-up) is expected to end, from the
estimated distributions and each agent's elapsed time in its state; (2) the humans about to
answer: every call in flight by its elapsed ringing time, every new dial by the ring-time model.
The overflow of humans over agents (within the connect grace) is approximated as normal at each
horizon step; the expected abandons E(n) of placing n new calls is the worst step's E[overflow].
It places the largest n whose marginal abandon risk per expected human stays under a price θ and
whose total E(n) stays within a share of the ledger's abandon budget. θ follows the campaign's
abandon slack (target × answers − abandons, with a safety margin): integral control that spends
what the campaign has earned and no more. Cold start runs progressive until enough answers.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from config.vocabulary import AgentState, DialMode
from pacing import model
from pacing.controller import backed_calls, clamp_calls
from pacing.estimators import Resolution
from pacing.events import AgentChanged, Decision, PacingEvent, PacingSettings, Snapshot
from pacing.tracker import Tracker

TALK, WRAP = 1, 2
STATE_CODES = {AgentState.ON_CALL: TALK, AgentState.WRAP_UP: WRAP}


class PredictiveController:
    """Forecast-driven pacing under a per-decision share of the abandon budget."""

    name = "predictive"
    mode = DialMode.PREDICTIVE

    def __init__(
        self,
        settings: PacingSettings | None = None,
        *,
        grace_s: float = 2.0,
        warmup_answers: int = 50,
        safety_margin: float = 0.15,
        price: float = 800.0,
        slack_scale: float = 3.0,
        budget_share: float = 1.0,
        guard_z: float = 2.0,
        budget_reserve: float = 1.0,
        exact_limit: int = 60,
        tail_s: float = 0.0,
    ) -> None:
        self.settings = settings or PacingSettings()
        self.grace_s = grace_s
        self.warmup_answers = warmup_answers
        self.safety_margin = safety_margin
        self.price = price
        self.slack_scale = slack_scale
        self.budget_share = budget_share
        self.budget_reserve = budget_reserve
        self.guard_z = guard_z
        self.exact_limit = exact_limit
        self.tail_s = tail_s
        self.tracker = Tracker()
        self.predicted_abandons = 0.0
        self.abandons_at_warmup = 0
        self.agent_slot: dict[int, int] = {}
        self.codes = np.zeros(0, dtype=np.int8)
        self.since = np.zeros(0, dtype=np.float64)
        self.tables_due_s = -math.inf
        self.calls_due_s = -math.inf
        self.talk_tab = np.zeros((1, model.HORIZON_STEPS))
        self.wrap_tab = np.zeros((1, model.HORIZON_STEPS))
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
            self.call_tab = model.call_table(est)
            self.calls_due_s = now + 30.0
        if now >= self.tables_due_s:
            self.talk_tab = model.talk_table(est, self.grace_s)
            self.wrap_tab = model.wrap_table(est, self.grace_s)
            self.tables_due_s = now + (120.0 if est.talk.count < 100 else 600.0)

    def _agent_probs(self, now: float) -> model.Array:
        """Per busy agent: P(free by each horizon step + grace), shaped (agents, steps)."""
        elapsed = np.maximum(now - self.since, 0.0).astype(np.int64)
        talk = self.talk_tab[np.minimum(elapsed[self.codes == TALK], model.TALK_ROWS - 1)]
        wrap = self.wrap_tab[np.minimum(elapsed[self.codes == WRAP], model.WRAP_ROWS - 1)]
        return np.concatenate([wrap, talk], axis=0)

    def _call_probs(self, now: float) -> model.Array:
        """Per call in flight: P(a human answers by each horizon step), shaped (calls, steps)."""
        pending = self.tracker.pending
        placed = np.fromiter(pending.values(), dtype=np.float64, count=len(pending))
        rows = np.minimum(((now - placed) / model.CALL_ROW_S).astype(np.int64), model.CALL_ROWS - 1)
        return self.call_tab[np.maximum(rows, 0)]

    def price_now(self, snap: Snapshot) -> float:
        """The price of one abandon in idle agent-seconds: falls as unspent slack accumulates."""
        aim = self.settings.target_abandon_rate * (1.0 - self.safety_margin)
        slack = aim * snap.answered_humans - snap.abandoned
        scale = self.slack_scale + 0.05 * aim * snap.answered_humans
        return min(1e5, max(20.0, self.price * math.exp(-slack / scale)))

    def decide(self, now: float, snap: Snapshot) -> Decision:
        s = self.settings
        backed = clamp_calls(backed_calls(snap), snap, s)
        cap = clamp_calls(10**6, snap, s)
        if cap <= backed:
            return Decision(backed, f"no room beyond {backed} agent-backed calls → place {backed}")
        talks = self.tracker.estimates.talk.count
        if snap.answered_humans < self.warmup_answers or talks < max(10, 2 * snap.agents_staffed):
            text = (
                f"warming up ({snap.answered_humans}/{self.warmup_answers} answers): progressive,"
                f" {snap.agents_ready} ready, {snap.calls_in_flight} in flight → place {backed}"
            )
            self.abandons_at_warmup = self.tracker.abandoned
            return Decision(backed, text, 1.0)
        self._refresh(now)
        agents = self._agent_probs(now)
        calls = self._call_probs(now)
        ready = snap.agents_ready - snap.humans_waiting
        expected_free = float(agents[:, -1].sum())
        ratio_cap = math.floor(s.max_ratio * max(1.0, expected_free + snap.agents_ready))
        top = max(backed, min(cap, ratio_cap - snap.calls_in_flight))
        theta = self.price_now(snap)
        overflow, idle = self._outlook(calls, agents, ready, top)
        guard = self._guard(calls, agents, ready, top, snap.abandon_budget)
        n, risk = self._choose(overflow, idle, guard, backed, theta)
        p_h = self.tracker.estimates.shares.share(Resolution.HUMAN)
        text = (
            f"{expected_free:.1f} agents expected free within"
            f" {model.HORIZON_STEPS:.0f} s + {snap.agents_ready} ready, p_human {p_h:.2f},"
            f" {snap.calls_in_flight} calls in flight, abandon budget {snap.abandon_budget},"
            f" abandon priced {theta:.0f} idle agent-s → place {n} (expected abandons {risk:.2f})"
        )
        level = (snap.calls_in_flight + n) / max(1.0, expected_free + snap.agents_ready)
        return Decision(n, text, level)

    def _outlook(
        self, calls: model.Array, agents: model.Array, ready: int, top: int
    ) -> tuple[model.Array, model.Array]:
        """Expected overflow and idle agents per (new dials, horizon step): exact when small."""
        h0 = self.call_tab[0]
        likely = int((agents[:, -1] >= model.POISSON_BELOW).sum())
        if calls.shape[0] + likely + top <= self.exact_limit:
            return model.exact_outlook(calls, agents, ready, h0, top)
        supply = agents.sum(axis=0) + float(ready)
        n = np.arange(top + 1, dtype=np.float64)[:, None]
        mean = calls.sum(axis=0)[None, :] + n * h0[None, :] - supply[None, :]
        var = (calls * (1.0 - calls)).sum(axis=0) + (agents * (1.0 - agents)).sum(axis=0)
        var = var[None, :] + n * (h0 * (1.0 - h0))[None, :]
        overflow = model.expected_overflow(mean, var)
        return overflow, overflow - mean

    def _guard(
        self, calls: model.Array, agents: model.Array, ready: int, top: int, budget: int
    ) -> npt.NDArray[np.bool_]:
        """Which n keep the deficit's upper quantile (mean + z·sd) within the spendable budget."""
        h0 = self.call_tab[0]
        n = np.arange(top + 1, dtype=np.float64)[:, None]
        mean = calls.sum(axis=0) + n * h0 - agents.sum(axis=0) - float(ready)
        var = (calls * (1.0 - calls)).sum(axis=0) + (agents * (1.0 - agents)).sum(axis=0)
        sd = np.sqrt(var + n * h0 * (1.0 - h0))
        spendable = self.budget_share * max(0.0, budget - self.budget_reserve)
        return np.asarray((mean + self.guard_z * sd * self.calibration <= spendable).all(axis=1))

    def _choose(
        self,
        overflow: model.Array,
        idle: model.Array,
        guard: npt.NDArray[np.bool_],
        backed: int,
        price_s: float,
    ) -> tuple[int, float]:
        """The n minimising idle agent-seconds + price × abandons, within the budget guard."""
        top = overflow.shape[0] - 1
        risk = overflow.max(axis=1) * self.calibration
        cost = (idle.sum(axis=1) + self.tail_s * idle[:, -1]) * model.STEP_S + price_s * risk
        cost[~guard & (np.arange(top + 1) > backed)] = np.inf
        chosen = max(int(np.argmin(cost)), min(backed, top))
        self.predicted_abandons += max(0.0, float(risk[chosen] - risk[0])) / self.calibration
        return chosen, float(risk[chosen])

    @property
    def calibration(self) -> float:
        """Realised ÷ forecast abandons since warm-up (with a prior of 2 each), in [0.7, 5]."""
        seen = self.tracker.abandoned - self.abandons_at_warmup
        return min(5.0, max(0.7, (seen + 2.0) / (self.predicted_abandons + 2.0)))
