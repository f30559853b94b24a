"""`dialer bench sms` in smoke size: the PostgreSQL outbox and the in-memory baseline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from storage.runtime import Storage

REPO = Path(__file__).resolve().parents[2]


def test_bench_sms_smoke_counts_from_the_database(storage: Storage, tmp_path: Path) -> None:
    env = {**os.environ, "DIALER_DATA_DIR": str(tmp_path),
           "DIALER_DATABASE_URL": storage.database_dsn}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "bench", "sms", "--messages", "400",
         "--memory-baseline", "--json"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["lost"] == 0 and report["duplicated"] == 0
    checked = report["checked_in_database"]
    assert checked["messages_in_db"] == checked["final"] == 400
    assert checked["parts"] == checked["parts_with_smsc_id"] == report["simulator"]["accepted"]
    assert checked["outbox_unsent"] == 0
    assert report["persistence"].startswith("PostgreSQL outbox")
    assert report["memory_baseline"]["lost"] == 0 and report["ratio_to_memory"] > 0
