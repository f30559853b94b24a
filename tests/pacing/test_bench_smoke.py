"""Smoke run of `dialer bench pacing` (seconds) and the purity of the pacing package."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

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
