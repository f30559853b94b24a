"""The simulator's abandon ledger: campaign-to-date counts, the budget it hands pacing, cap flags.

It mirrors what the compliance ledger gives the engine: `budget` is how many more abandons the
campaign can afford now and stay at or under the cap (the cap applies from the `min_answers`-th
live answer on, so the budget before that is what the cap allows at `min_answers`).
"""

from __future__ import annotations

import math


class Ledger:
    """Live answers (humans, including AMD false positives) and abandons, campaign to date."""

    def __init__(self, cap: float, min_answers: int) -> None:
        self.cap = cap
        self.min_answers = min_answers
        self.answers = 0
        self.abandons = 0
        self.fp_abandons = 0
        self.exceeded = False
        self.exceeded_by_pacing = False
        self.floor_exceeded = False
        self.first_exceeded_s: float | None = None

    @property
    def budget(self) -> int:
        allowed = math.floor(self.cap * max(self.answers, self.min_answers) + 1e-9)
        return max(0, allowed - self.abandons)

    @property
    def rate(self) -> float:
        return self.abandons / self.answers if self.answers else 0.0

    def answered(self, now: float) -> None:
        self.answers += 1
        self._check(now)

    def abandoned(self, now: float, *, false_positive: bool) -> None:
        self.abandons += 1
        if false_positive:
            self.fp_abandons += 1
        self._check(now)

    def _check(self, now: float) -> None:
        if self.answers < self.min_answers:
            return
        allowed = self.cap * self.answers + 1e-9
        floor_over = self.fp_abandons > allowed
        self.floor_exceeded |= floor_over
        if self.abandons > allowed:
            if not self.exceeded:
                self.first_exceeded_s = now
            self.exceeded = True
            self.exceeded_by_pacing |= not floor_over
