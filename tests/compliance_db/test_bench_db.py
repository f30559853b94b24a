"""Smoke size of `dialer bench compliance` with the PostgreSQL import (scratch database)."""

from __future__ import annotations

import argparse
import json

import pytest

from cli import bench_compliance
from config import Settings
from storage.runtime import Storage


def test_bench_compliance_imports_into_postgresql(
    storage: Storage, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    bench_compliance.register(parser.add_subparsers())
    args = parser.parse_args(["compliance", "--leads", "2000", "--dnc", "50000", "--json"])
    assert args.handler(args, settings) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["db_imported"] == report["db_cache_numbers"] == 50_000
    assert report["db_import_s"] > 0 and report["db_table_mb"] > 0
    assert report["never_allowed_dnc"]
