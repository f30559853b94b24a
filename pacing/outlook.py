"""Exact short-term outlook of humans answering versus agents freeing, per forecast horizon step.

For each horizon step τ_j the deficit X_j = (humans answering by τ_j) − (busy agents free by
τ_j + grace) is a difference of sums of independent Bernoulli trials (one per call in flight,
one per busy agent; agents very unlikely to free are pooled as one Poisson count). Its pmf is
computed exactly by convolution, vectorised over the horizon steps, on a window of values just
wide enough for the questions asked: the chance that the next human meets no free agent
(X_j ≥ ready) and the chance that abandons overflow the ledger's allowance (X_j > ready + b).
Values too low to ever reach `ready` are lumped at the window's floor, which keeps this exact.
Two outlooks over the same calls and agents (say, with different chances of agents freeing) can
share one instance by stacking their steps side by side: every operation is per step.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
POISSON_BELOW = 0.05


def poisson_pmf(rate: Array, top: int) -> Array:
    """Poisson pmf per step for k = 0 … top, shaped (steps, top + 1)."""
    k = np.arange(top + 1, dtype=np.float64)
    log_fact = np.cumsum(np.log(np.maximum(k, 1.0)))
    log_rate = np.log(np.maximum(rate, 1e-300))[:, None]
    return np.asarray(np.exp(k[None, :] * log_rate - rate[:, None] - log_fact[None, :]))


class Outlook:
    """The pmf of X_j for every horizon step j, updated as new dials are added one by one."""

    def __init__(
        self, calls: Array, agents: Array, ready: int, extra: int, *, waiting: int = 0
    ) -> None:
        """`calls` (n_calls, steps): P(human by τ_j); `agents` (n_agents, steps): P(free by
        τ_j + grace); `ready` agents free now, `waiting` humans already answered and waiting
        for one; room for `extra` new dials."""
        steps = calls.shape[1] if calls.size else agents.shape[1]
        self.ready = ready
        self.low = min(0, ready - calls.shape[0] - extra - waiting - 1)
        size = calls.shape[0] + extra + waiting - self.low + 1
        self.pmf = np.zeros((steps, size))
        self._agents(agents, waiting)
        for p in calls:
            self._up(p)

    def _agents(self, agents: Array, waiting: int) -> None:
        zero = waiting - self.low
        if agents.size == 0:
            self.pmf[:, zero] = 1.0
            return
        small = agents.max(axis=1) < POISSON_BELOW
        rate = agents[small].sum(axis=0)
        top = int(float(rate.max()) + 8.0 * math.sqrt(float(rate.max())) + 4.0)
        pooled = poisson_pmf(rate, top)
        for k in range(top + 1):
            self.pmf[:, max(0, zero - k)] += pooled[:, k]
        for p in agents[~small]:
            self._down(p)

    def _down(self, p: Array) -> None:
        """Convolve with −Bernoulli(p); mass falling below the window stays at its floor."""
        pmf = self.pmf
        floor = pmf[:, 0] + pmf[:, 1] * p
        moved = pmf[:, 2:] * p[:, None]
        pmf *= (1.0 - p)[:, None]
        pmf[:, 1:-1] += moved
        pmf[:, 0] = floor

    def _up(self, p: Array) -> None:
        """Convolve with +Bernoulli(p) (the window is sized so nothing spills over the top)."""
        pmf = self.pmf
        moved = pmf[:, :-1] * p[:, None]
        pmf *= (1.0 - p)[:, None]
        pmf[:, 1:] += moved

    def add_dial(self, h0: Array) -> None:
        """One more new dial whose human answers by τ_j with probability h0[j]."""
        self._up(h0)

    def tail(self, over: int) -> Array:
        """P(X_j ≥ ready + over) per step."""
        start = max(0, self.ready + over - self.low)
        return np.asarray(self.pmf[:, start:].sum(axis=1))

    def marginal_risk(self, h0: Array) -> float:
        """The abandons the next dial adds: max_j ΔE[(X_j − ready)⁺] = max_j h0_j·P(X_j ≥ ready).

        Its own human, or one it displaces (it takes the agent a later human needed). Read on
        the first h0.size steps: a second, stressed outlook may be stacked after them."""
        return float((h0 * self.tail(0)[: h0.size]).max())
