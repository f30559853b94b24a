"""What one simulated shift measured, and the per-policy metrics of BENCHMARKS.md §1."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

HOUR_S = 3600.0
WINDOW_STEP_S = 300.0


@dataclass(slots=True)
class RunResult:
    """Raw counts of one run; `summary()` turns them into the reported metrics."""

    agents: int
    shift_s: float
    talk_s: float = 0.0
    wrap_s: float = 0.0
    dials: int = 0
    connects: int = 0
    peak_lines: int = 0
    answers: int = 0
    abandons: int = 0
    fp_abandons: int = 0
    cap_exceeded: bool = False
    cap_exceeded_by_pacing: bool = False
    fp_floor_exceeded: bool = False
    cap_violations: int = 0
    aborted: bool = False
    waits: list[float] = field(default_factory=list)
    answer_times: list[float] = field(default_factory=list)
    abandon_times: list[float] = field(default_factory=list)
    series: list[tuple[float, float, float, float]] = field(default_factory=list)

    @property
    def talk_fraction(self) -> float:
        return self.talk_s / (self.agents * self.shift_s)

    def worst_hour_abandon_rate(self) -> float:
        """The highest abandons/answers over rolling one-hour windows (5-minute steps)."""
        span = min(HOUR_S, self.shift_s)
        worst, start = 0.0, 0.0
        while start + span <= self.shift_s + 1e-9:
            lo_a = bisect.bisect_left(self.answer_times, start)
            hi_a = bisect.bisect_left(self.answer_times, start + span)
            lo_b = bisect.bisect_left(self.abandon_times, start)
            hi_b = bisect.bisect_left(self.abandon_times, start + span)
            if hi_a > lo_a:
                worst = max(worst, (hi_b - lo_b) / (hi_a - lo_a))
            start += WINDOW_STEP_S
        return worst

    def summary(self) -> dict[str, Any]:
        hours = self.agents * self.shift_s / HOUR_S
        waits = sorted(self.waits)
        p95 = waits[min(len(waits) - 1, int(0.95 * len(waits)))] if waits else 0.0
        return {
            "talk_fraction": self.talk_fraction,
            "busy_fraction": (self.talk_s + self.wrap_s) / (self.agents * self.shift_s),
            "wait_mean_s": sum(waits) / len(waits) if waits else 0.0,
            "wait_p95_s": p95,
            "connects_per_agent_hour": self.connects / hours,
            "dials_per_agent_hour": self.dials / hours,
            "peak_lines": self.peak_lines,
            "answers": self.answers,
            "abandons": self.abandons,
            "abandon_rate": self.abandons / self.answers if self.answers else 0.0,
            "worst_hour_abandon_rate": self.worst_hour_abandon_rate(),
            "cap_exceeded": self.cap_exceeded,
            "cap_exceeded_by_pacing": self.cap_exceeded_by_pacing,
            "fp_floor_exceeded": self.fp_floor_exceeded,
        }
