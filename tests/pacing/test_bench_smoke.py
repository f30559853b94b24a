"""Smoke run of `dialer bench pacing` (seconds) and the purity of the pacing package."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from cli.bench_pacing import _aggregate_policy
from cli.main import main

PACING = Path(__file__).resolve().parents[2] / "pacing"
IMPURE = {"asyncio", "time", "datetime", "socket", "os", "io", "storage", "dialer", "api", "cli"}


def test_bench_pacing_smoke_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bench", "pacing", "--agents", "10", "--hours", "0.25", "--seeds", "1", "--jobs", "1"]
    assert main([*argv, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    row = report["results"]["steady"]["10"]
    for name in ("preview", "progressive", "power", "adapt", "erlang", "predictive", "ceiling"):
        assert row[name]["talk_fraction"] > 0.0
    for key in ("talk_fraction", "busy_fraction", "wait_mean_s", "wait_p95_s", "abandon_rate"):
        assert key in row["predictive"]
    for key in ("worst_hour_abandon_rate", "cap_exceeded", "dials_per_agent_hour", "efficiency"):
        assert key in row["predictive"]
    assert "steady/N=10" in report["targets"]
    assert row["best_static"]["seeds_at_grid_top"] in (0, 1)


def test_best_static_counts_the_seeds_whose_hindsight_ratio_is_the_grid_top() -> None:
    def run(ratio: float) -> dict[str, float]:
        return {"talk_fraction": 0.84, "ratio": ratio}

    agg = _aggregate_policy([run(3.7), run(4.0), None, run(4.0)], [0, 1, 2, 3])
    assert agg is not None
    assert agg["ratios"] == [3.7, 4.0, 4.0]
    assert agg["seeds_at_grid_top"] == 2
    assert agg["seeds_without_feasible_ratio"] == 1


def test_bench_pacing_frontier_traces_rates_beyond_the_cap(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["bench", "pacing", "--agents", "10", "--hours", "0.25", "--seeds", "1", "--jobs", "1"]
    assert main([*argv, "--frontier", "0.03,0.2", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)["results"]["steady"]["10"]
    predictive = row["frontier"]["predictive"]
    assert [p["cap"] for p in predictive] == [0.03, 0.2]
    power = row["frontier"]["power"]
    assert [p["ratio"] for p in power] == [1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0]
    # a higher ratio dials more: more abandons and more talk
    assert power[-1]["abandon_rate"] > power[0]["abandon_rate"]
    assert power[-1]["talk_fraction"] > power[0]["talk_fraction"]
    assert row["predictive"]["seeds_over_cap_by_pacing"] == []


def test_bench_pacing_frontier_rejects_rates_that_are_not_fractions() -> None:
    argv = ["bench", "pacing", "--agents", "10", "--hours", "0.1", "--seeds", "1"]
    with pytest.raises(SystemExit, match="fractions between 0 and 1"):
        main([*argv, "--frontier", "3"])
    with pytest.raises(SystemExit, match="abandon rates like"):
        main([*argv, "--frontier", "three"])


def test_pacing_is_pure() -> None:
    for path in PACING.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in IMPURE, f"{path.name} imports {name}"
