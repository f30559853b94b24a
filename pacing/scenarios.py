"""Simulation parameters of ../shared/BENCHMARKS.md §1 and the scenarios steady, drift, amd."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

SCENARIOS = ("steady", "drift", "amd")
HOUR_S = 3600.0


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Everything that defines one simulated shift, except the seed and the policy."""

    agents: int = 50
    p_human: float = 0.25
    p_machine: float = 0.15
    p_fail: float = 0.10
    amd_false_positive: float = 0.0
    ring_mean_s: float = 10.0
    ring_cv: float = 0.5
    no_answer_timeout_s: float = 20.0
    amd_s: float = 3.0
    fail_hold_min_s: float = 3.0
    fail_hold_max_s: float = 5.0
    talk_mean_s: float = 180.0
    talk_cv: float = 0.9
    wrap_mean_s: float = 20.0
    wrap_cv: float = 0.5
    grace_s: float = 2.0
    safe_harbour_s: float = 10.0
    trunk_lines_per_agent: int = 4
    shift_s: float = 8.0 * HOUR_S
    abandon_cap: float = 0.03
    cap_min_answers: int = 50
    review_min_s: float = 15.0
    review_max_s: float = 30.0
    drift: bool = False
    breaks: bool = False
    break_share: float = 0.10
    break_every_s: float = 2.0 * HOUR_S
    break_s: float = 15.0 * 60.0

    @property
    def trunk_lines(self) -> int:
        return self.trunk_lines_per_agent * self.agents

    @property
    def ceiling(self) -> float:
        """E[talk]/(E[talk] + E[wrap]): a clairvoyant's talk fraction with zero abandons."""
        return self.talk_mean_s / (self.talk_mean_s + self.wrap_mean_s)

    def p_human_at(self, t_s: float) -> float:
        """The human answer share of a dial placed at `t_s` (drift: 1.2 → 0.6 × p_h over 8 h)."""
        if not self.drift:
            return self.p_human
        share = min(max(t_s / (8.0 * HOUR_S), 0.0), 1.0)
        p = self.p_human * (1.2 - 0.6 * share)
        return p * 0.6 if t_s >= 4.0 * HOUR_S else p

    def agents_on_break(self) -> int:
        return max(1, math.ceil(self.break_share * self.agents)) if self.breaks else 0


def scenario(name: str, *, agents: int, p_human: float = 0.25, hours: float = 8.0) -> SimConfig:
    """The named scenario's configuration for `agents` agents over `hours` hours."""
    base = SimConfig(agents=agents, p_human=p_human, shift_s=hours * HOUR_S)
    if name == "steady":
        return base
    if name == "drift":
        return replace(base, drift=True, breaks=True)
    if name == "amd":
        return replace(base, amd_false_positive=0.02)
    raise ValueError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}")
