"""The `dialer` command end to end: --json prints exactly one JSON object; errors name the field."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from config import Settings
from storage.runtime import Storage

REPO = Path(__file__).resolve().parents[2]


def dialer(
    settings: Settings, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "DIALER_DATA_DIR": str(settings.data_dir), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    parsed = json.loads(lines[0])
    assert isinstance(parsed, dict)
    return parsed


def test_config_show_masks_secrets(settings: Settings) -> None:
    env = {"DIALER_DATABASE_URL": "postgresql://u:topsecret@db/x"}
    report = one_json(dialer(settings, "config", "show", "--json", env=env))
    assert report["database_url"] == "postgresql://u:***@db/x"
    assert "topsecret" not in json.dumps(report)


def test_invalid_setting_fails_at_start_naming_the_key(settings: Settings) -> None:
    result = dialer(settings, "config", "show", env={"DIALER_API__PORT": "http"})
    assert result.returncode == 2
    assert "DIALER_API__PORT" in result.stderr and result.stdout == ""


async def test_campaign_and_import_commands(
    storage: Storage, settings: Settings, tmp_path: Path, unique_name: str
) -> None:
    created = one_json(dialer(settings, "campaigns", "create", unique_name, "--mode", "power",
                              "--country", "GB", "--json"))  # fmt: skip
    assert (created["mode"], created["default_country"]) == ("power", "GB")
    csv_path = tmp_path / "gb.csv"
    csv_path.write_text("phone,name\n020 7946 0958,Ann\n07911 123456,Bob\nxx,Cy\n")
    report = one_json(dialer(settings, "lists", "import", "--campaign", unique_name,
                             str(csv_path), "--json"))  # fmt: skip
    for key in ("rows", "imported", "invalid", "duplicates", "seconds", "ambiguous_zone", "errors"):
        assert key in report
    assert (report["rows"], report["imported"], report["invalid"]) == (3, 2, 1)
    assert report["errors_file"].endswith("gb.csv.errors.csv")
    shown = one_json(dialer(settings, "campaigns", "show", unique_name, "--json"))
    assert shown["leads"] == {"new": 2}
    updated = one_json(dialer(settings, "campaigns", "update", unique_name, "--status", "paused",
                              "--json"))  # fmt: skip
    assert updated["status"] == "paused"
    listed = one_json(dialer(settings, "campaigns", "list", "--json"))
    assert unique_name in [c["name"] for c in listed["campaigns"]]


async def test_bad_input_names_the_field(
    storage: Storage, settings: Settings, unique_name: str
) -> None:
    result = dialer(settings, "campaigns", "create", unique_name, "--country", "XX")
    assert result.returncode == 2 and "default_country" in result.stderr
    result = dialer(settings, "campaigns", "create", unique_name, "--caller-id", "12")
    assert result.returncode == 2 and "caller_id" in result.stderr
    result = dialer(
        settings, "lists", "import", "--campaign", "nope", str(REPO / "examples" / "leads.csv")
    )
    assert result.returncode == 2 and "does not exist" in result.stderr


async def test_db_status_and_migrate(storage: Storage, settings: Settings) -> None:
    status = one_json(dialer(settings, "db", "status", "--json"))
    assert status["pending"] == [] and status["redis_ok"] is True
    assert one_json(dialer(settings, "db", "migrate", "--json"))["applied"] == []


def test_bench_import_smoke(settings: Settings) -> None:
    report = one_json(dialer(settings, "bench", "import", "--rows", "3000", "--json"))
    assert report["counts_exact"] is True
    assert report["rows"] == 3000 and report["baseline_rows_per_s"] > 0


async def test_assume_zone_is_validated_and_audited(
    storage: Storage, settings: Settings, unique_name: str
) -> None:
    one_json(dialer(settings, "campaigns", "create", unique_name, "--json"))
    bad = dialer(settings, "campaigns", "update", unique_name, "--assume-zone", "Mars/Base")
    assert bad.returncode == 2 and "assume_zone" in bad.stderr
    args = ("campaigns", "update", unique_name, "--assume-zone", "America/Chicago", "--json")
    assert one_json(dialer(settings, *args))["assume_zone"] == "America/Chicago"
    row = await storage.pool.fetchrow(
        "SELECT a.actor, a.data FROM audit_log a "
        "JOIN campaigns c ON a.subject = 'campaign:' || c.id "
        "WHERE c.name = $1 AND a.action = 'campaign.update' ORDER BY a.id DESC LIMIT 1",
        unique_name,
    )
    assert row["data"] == {"assume_zone": "America/Chicago"} and row["actor"] == "cli"
