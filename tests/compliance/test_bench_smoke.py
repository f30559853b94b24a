"""Smoke size of `dialer bench compliance`: one JSON object, DNC numbers never allowed."""

from __future__ import annotations

import argparse
import json

import pytest

from cli import bench, bench_compliance
from config import Settings


def test_bench_compliance_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    bench_compliance.register(sub)
    args = parser.parse_args(
        ["compliance", "--leads", "3000", "--dnc", "20000", "--no-db", "--json"]
    )
    assert args.handler(args, Settings()) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dnc_imported"] == 20000 and report["dnc_fast_path"]
    assert report["dnc_leads"] > 0 and report["never_allowed_dnc"]
    assert 0 < report["allowed"] < 3000
    assert report["verdicts_per_s"] > 0 and report["dnc_import_s"] > 0


def test_bench_is_registered() -> None:
    assert bench_compliance.register in bench.BENCHES
