"""Forecasting tables of the predictive controller: agents freeing up, ringing calls turning human.

Built with numpy from the current estimates and rebuilt as they drift. Rows are indexed by elapsed
time in the current state (agent talk or wrap-up, call ringing); columns by the forecast horizon
τ_j = j·STEP_S, j = 1..HORIZON_STEPS. Agents count as free at τ if they are free by τ + grace
(a human waits up to the connect grace for an agent).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from pacing.estimators import LogNormalEstimator, Resolution
from pacing.tracker import Estimates

Array = npt.NDArray[np.float64]
STEP_S = 1.0
HORIZON_STEPS = 24
WRAP_ROWS = 600
TALK_ROWS = 3600
CALL_ROW_S = 0.25
CALL_ROWS = 160
CONV_STEP_S = 0.5


def norm_cdf(z: Array) -> Array:
    """Φ(z) for arrays (Abramowitz–Stegun 7.1.26 on erf; absolute error below 1.5e-7)."""
    x = np.abs(z) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = 1.0 - poly * np.exp(-x * x)
    return np.asarray(0.5 * (1.0 + np.sign(z) * erf), dtype=np.float64)


def lognormal_cdf(x: Array, est: LogNormalEstimator) -> Array:
    safe = np.maximum(x, 1e-9)
    z = (np.log(safe) - est.mu) / est.sigma
    return np.where(x > 0.0, norm_cdf(z), 0.0)


def horizons(grace_s: float) -> Array:
    return np.arange(1, HORIZON_STEPS + 1, dtype=np.float64) * STEP_S + grace_s


def wrap_table(est: Estimates, grace_s: float) -> Array:
    """P(wrap-up ends by e + τ + grace | still in wrap-up at e), rows e = 0, 1, … s."""
    e = np.arange(WRAP_ROWS, dtype=np.float64)[:, None]
    tau = horizons(grace_s)[None, :]
    f_e = lognormal_cdf(e, est.wrap)
    f_end = lognormal_cdf(e + tau, est.wrap)
    return np.asarray(np.clip((f_end - f_e) / np.maximum(1.0 - f_e, 1e-12), 0.0, 1.0))


def _talk_grid() -> tuple[Array, npt.NDArray[np.int64]]:
    """Elapsed talk times the table is computed at (fine first, coarse later) and the map from
    whole seconds 0 … TALK_ROWS − 1 to the grid row at or below."""
    grid = np.concatenate([np.arange(0, 60), np.arange(60, 600, 5), np.arange(600, TALK_ROWS, 30)])
    seconds = np.arange(TALK_ROWS)
    rows = np.searchsorted(grid, seconds, side="right") - 1
    return grid.astype(np.float64), rows.astype(np.int64)


TALK_GRID_S, TALK_ROW_OF_SECOND = _talk_grid()


def talk_table(est: Estimates, grace_s: float) -> Array:
    """P(talk and then wrap-up both end by τ + grace | talking for e), rows e = 0, 1, … s."""
    tau = horizons(grace_s)
    x = np.arange(0.0, tau[-1] + CONV_STEP_S, CONV_STEP_S)
    e = TALK_GRID_S[:, None]
    f_e = lognormal_cdf(e, est.talk)
    edges = lognormal_cdf(e + x[None, :], est.talk)
    ends = np.diff(edges, axis=1) / np.maximum(1.0 - f_e, 1e-12)
    mid = (x[:-1] + x[1:]) / 2.0
    wrap_done = lognormal_cdf(tau[None, :] - mid[:, None], est.wrap)
    table = np.clip(ends @ wrap_done, 0.0, 1.0)
    return np.asarray(table[TALK_ROW_OF_SECOND])


def _survival(x: Array, est: LogNormalEstimator) -> Array:
    return np.asarray(1.0 - lognormal_cdf(x, est))


def call_table(est: Estimates, p_human: float | None = None) -> Array:
    """P(a call still pending after e turns human within τ), rows e = 0, 0.25, … s.

    `p_human` replaces the estimated human share (the other shares scale to fill the rest), e.g.
    an upper confidence bound while the share is still being learnt."""
    e = np.arange(CALL_ROWS, dtype=np.float64)[:, None] * CALL_ROW_S
    tau = np.arange(1, HORIZON_STEPS + 1, dtype=np.float64)[None, :] * STEP_S
    sh = est.shares
    estimated = sh.share(Resolution.HUMAN)
    p_h = estimated if p_human is None else p_human
    rest = (1.0 - p_h) / max(1.0 - estimated, 1e-12)
    pending = p_h * _survival(e, est.ring) + rest * (
        sh.share(Resolution.MACHINE) * _survival(e, est.machine)
        + sh.share(Resolution.QUICK_FAIL) * _survival(e, est.quick_fail)
        + sh.share(Resolution.NO_ANSWER) * _survival(e, est.no_answer)
    )
    human = p_h * (lognormal_cdf(e + tau, est.ring) - lognormal_cdf(e, est.ring))
    return np.asarray(np.clip(human / np.maximum(pending, 1e-12), 0.0, 1.0))
