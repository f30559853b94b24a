"""One benchmark cell: every policy on one seed's tape, the best static ratio, the ceiling.

Pure: returns plain dicts of metrics; the CLI runner (cli/bench_pacing.py) fans cells out over
processes, aggregates seeds and prints or plots.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from config.vocabulary import DialMode
from pacing import registry
from pacing.baselines import CampaignFacts
from pacing.basic import PowerController
from pacing.events import PacingSettings
from pacing.metrics import RunResult
from pacing.scenarios import SimConfig, scenario
from pacing.simulator import simulate

POLICIES = ("preview", "progressive", "power", "adapt", "erlang", "predictive")
GRID = tuple(round(1.0 + 0.1 * i, 1) for i in range(31))
FRONTIER_RATIOS = (1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0)


@dataclass(frozen=True, slots=True)
class Cell:
    """What one worker runs: a scenario, a team size and a seed."""

    scenario: str
    agents: int
    seed: int
    p_human: float = 0.25
    hours: float = 8.0
    ratio: float = 2.0
    frontier_caps: tuple[float, ...] = ()


def campaign_settings(config: SimConfig, cell: Cell, **changes: Any) -> PacingSettings:
    """The settings a campaign manager would give this scenario: the power ratio asked for and
    the AMD's nominal false-positive share (as the Erlang policy gets the nominal p_h)."""
    settings = PacingSettings(ratio=cell.ratio, amd_false_positive_rate=config.amd_false_positive)
    return replace(settings, **changes)


def fixed_ratio(ratio: float) -> PowerController:
    """Power at exactly `ratio` (no ratio clamp) and blind to the abandon budget: the static
    anchor the bench searches in hindsight and traces on the frontier."""
    settings = PacingSettings(mode=DialMode.POWER, ratio=ratio, max_ratio=ratio)
    return PowerController(settings, respect_budget=False)


def best_static(cell: Cell) -> tuple[float | None, RunResult | None]:
    """The grid ratio with the highest talk fraction whose run never broke the cap by pacing."""
    config = scenario(cell.scenario, agents=cell.agents, p_human=cell.p_human, hours=cell.hours)
    best: tuple[float | None, RunResult | None] = (None, None)
    for ratio in GRID:
        run = simulate(config, fixed_ratio(ratio), cell.seed, abort_on_cap=True)
        if run.aborted or run.cap_exceeded_by_pacing:
            continue
        if best[1] is None or run.talk_fraction > best[1].talk_fraction:
            best = (ratio, run)
    return best


def frontier(cell: Cell) -> dict[str, list[dict[str, Any]]]:
    """Talk fraction against abandon rate beyond the cap: `predictive` run on campaigns whose cap
    (and target) is each of `cell.frontier_caps`, and `power` at FRONTIER_RATIOS with no cap."""
    base = scenario(cell.scenario, agents=cell.agents, p_human=cell.p_human, hours=cell.hours)
    points: dict[str, list[dict[str, Any]]] = {"predictive": [], "power": []}
    for cap in cell.frontier_caps:
        settings = campaign_settings(base, cell, target_abandon_rate=cap)
        controller = registry.create("predictive", settings)
        run = simulate(replace(base, abandon_cap=cap), controller, cell.seed)
        points["predictive"].append({"cap": cap, **_point(run)})
    for ratio in FRONTIER_RATIOS:
        run = simulate(base, fixed_ratio(ratio), cell.seed)
        points["power"].append({"ratio": ratio, **_point(run)})
    return points


def _point(run: RunResult) -> dict[str, Any]:
    summary = run.summary()
    return {key: summary[key] for key in ("talk_fraction", "abandon_rate", "cap_exceeded")}


def run_cell(cell: Cell) -> dict[str, Any]:
    """Every policy's metrics on the cell's tape, keyed by policy name, plus the anchors."""
    config = scenario(cell.scenario, agents=cell.agents, p_human=cell.p_human, hours=cell.hours)
    facts = CampaignFacts(
        agents=cell.agents,
        p_human=cell.p_human,
        talk_s=config.talk_mean_s,
        wrap_s=config.wrap_mean_s,
    )
    settings = campaign_settings(config, cell)
    out: dict[str, Any] = {}
    series: list[tuple[float, float, float, float]] = []
    for name in POLICIES:
        controller = registry.create(name, settings, facts)
        run = simulate(config, controller, cell.seed, record_series=name == "predictive")
        out[name] = run.summary()
        if name == "predictive":
            series = run.series
    ratio, best = best_static(cell)
    out["best_static"] = best.summary() if best is not None else None
    if out["best_static"] is not None:
        out["best_static"]["ratio"] = ratio
    out["ceiling"] = {"talk_fraction": config.ceiling, "abandon_rate": 0.0}
    points = frontier(cell) if cell.frontier_caps else None
    return {"cell": cell, "policies": out, "series": series, "frontier": points}
