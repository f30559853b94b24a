"""The common-random-numbers tape: every lead's and every connect's draws, fixed by the seed.

One independent random stream per attribute, each advanced exactly once per lead (or per connect
for talk and wrap-up), so every policy run on a seed faces the same leads in the same order.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from enum import Enum

from pacing.scenarios import SimConfig


class LeadKind(Enum):
    HUMAN = "human"
    MACHINE = "machine"
    FAIL = "fail"
    NO_ANSWER = "no-answer"


@dataclass(frozen=True, slots=True)
class Lead:
    """One lead's fate when dialled at a given time."""

    kind: LeadKind
    ring_s: float
    fail_hold_s: float
    amd_false_positive: bool
    review_s: float


def _lognormal_params(mean_s: float, cv: float) -> tuple[float, float]:
    sigma2 = math.log1p(cv * cv)
    return math.log(mean_s) - sigma2 / 2.0, math.sqrt(sigma2)


class Tape:
    """Deterministic draws per seed; leads are consumed in list order, connects in connect order."""

    def __init__(self, config: SimConfig, seed: int) -> None:
        self.config = config
        streams = ("outcome", "ring", "fail", "amd", "review", "talk", "wrap")
        self._rng = {name: random.Random(f"pacing:{seed}:{name}") for name in streams}
        self._ring = _lognormal_params(config.ring_mean_s, config.ring_cv)
        self._talk = _lognormal_params(config.talk_mean_s, config.talk_cv)
        self._wrap = _lognormal_params(config.wrap_mean_s, config.wrap_cv)

    def next_lead(self, dialled_at_s: float) -> Lead:
        c, rng = self.config, self._rng
        u = rng["outcome"].random()
        ring_s = rng["ring"].lognormvariate(*self._ring)
        fail_hold_s = rng["fail"].uniform(c.fail_hold_min_s, c.fail_hold_max_s)
        false_positive = rng["amd"].random() < c.amd_false_positive
        review_s = rng["review"].uniform(c.review_min_s, c.review_max_s)
        p_human = c.p_human_at(dialled_at_s)
        ring_s = min(ring_s, c.no_answer_timeout_s - 0.5)
        if u < p_human:
            kind = LeadKind.HUMAN
        elif u < p_human + c.p_machine:
            kind = LeadKind.MACHINE
        elif u < p_human + c.p_machine + c.p_fail:
            kind = LeadKind.FAIL
        else:
            kind = LeadKind.NO_ANSWER
        return Lead(kind, ring_s, fail_hold_s, false_positive, review_s)

    def next_talk_s(self) -> float:
        return self._rng["talk"].lognormvariate(*self._talk)

    def next_wrap_s(self) -> float:
        return self._rng["wrap"].lognormvariate(*self._wrap)
