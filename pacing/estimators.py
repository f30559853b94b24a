"""Drift-tracking estimators: outcome shares and lognormal duration models (EWMA over a window).

Each estimator starts from a weak prior (a pseudo-count of observations), averages plainly while
it has fewer than `window` observations, then forgets exponentially with that window, so a shift
whose answer rate or talk times drift is followed within about one window of calls.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum


class Resolution(StrEnum):
    """How a placed call resolved, as far as pacing cares."""

    HUMAN = "human"
    MACHINE = "machine"
    QUICK_FAIL = "quick-fail"
    NO_ANSWER = "no-answer"


class ShareEstimator:
    """EWMA shares of call resolutions (human, machine, quick failure, no answer)."""

    def __init__(
        self, prior: Mapping[Resolution, float], *, prior_weight: float = 10.0, window: int = 300
    ) -> None:
        total = sum(prior.values())
        self._shares = {r: prior.get(r, 0.0) / total for r in Resolution}
        self._weight = prior_weight
        self.window = window
        self.count = 0

    def add(self, resolution: Resolution) -> None:
        self.count += 1
        self._weight = min(self._weight + 1.0, float(self.window))
        alpha = 1.0 / self._weight
        for r in Resolution:
            target = 1.0 if r is resolution else 0.0
            self._shares[r] += alpha * (target - self._shares[r])

    def share(self, resolution: Resolution) -> float:
        return self._shares[resolution]

    def upper_bound(self, resolution: Resolution, z: float = 3.0) -> float:
        """A Wilson score upper bound on a share from the observations so far (1 with none)."""
        n = min(self.count, self.window)
        if n == 0:
            return 1.0
        p = self._shares[resolution]
        z2n = z * z / n
        centre = p + z2n / 2.0
        spread = z * math.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n))
        return min(1.0, (centre + spread) / (1.0 + z2n))


class LogNormalEstimator:
    """EWMA of log-durations: a lognormal model with a mean and a coefficient of variation."""

    def __init__(
        self, mean_s: float, cv: float, *, prior_weight: float = 5.0, window: int = 300
    ) -> None:
        sigma2 = math.log1p(cv * cv)
        self.mu = math.log(mean_s) - sigma2 / 2.0
        self.var = sigma2
        self._weight = prior_weight
        self.window = window
        self.count = 0

    def add(self, duration_s: float) -> None:
        x = math.log(max(duration_s, 0.05))
        self.count += 1
        self._weight = min(self._weight + 1.0, float(self.window))
        alpha = 1.0 / self._weight
        delta = x - self.mu
        self.mu += alpha * delta
        self.var = (1.0 - alpha) * (self.var + alpha * delta * delta)

    @property
    def sigma(self) -> float:
        return math.sqrt(max(self.var, 1e-4))

    @property
    def mean_s(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2.0)

    def cdf(self, x_s: float) -> float:
        if x_s <= 0.0:
            return 0.0
        z = (math.log(x_s) - self.mu) / self.sigma
        return 0.5 * math.erfc(-z / math.sqrt(2.0))
