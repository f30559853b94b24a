"""Embedded PostgreSQL and Redis: first start, reuse, clean stop, clear errors, no drift."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage.embedded_pg import EmbeddedPostgres, wheel_install_dir
from storage.embedded_redis import EmbeddedRedis
from storage.errors import EmbeddedServerError

REPO = Path(__file__).resolve().parents[2]


def modes_of_parents(*paths: Path) -> dict[Path, int]:
    """Mode and owner of every folder from / down to each path (exclusive)."""
    seen: dict[Path, int] = {}
    for path in paths:
        for folder in path.parents:
            info = folder.stat()
            seen[folder] = (info.st_mode << 32) | info.st_uid
    return seen


@pytest.fixture
def private_parent(tmp_path: Path) -> Path:
    """A 0700 folder, like `mktemp -d` or /root, that the server user cannot traverse."""
    parent = tmp_path / "private"
    parent.mkdir(mode=0o700)
    return parent


def test_postgres_starts_reuses_and_stops_without_touching_parents(private_parent: Path) -> None:
    data = private_parent / "var"
    before = modes_of_parents(data, wheel_install_dir() / "bin")
    server = EmbeddedPostgres(data / "pg", data / "run", "dialer_pg")
    server.start()
    try:
        assert server.is_running()
        assert (data / "pg" / "PG_VERSION").exists()
        second = EmbeddedPostgres(data / "pg", data / "run", "dialer_pg")
        second.start()  # reuses the running server
        second.stop()  # another live user remains (this process): keeps running
        assert server.is_running()
    finally:
        server.stop()
    assert not server.is_running()
    after = modes_of_parents(data, wheel_install_dir() / "bin")
    assert before == after, "a folder outside the data folder changed mode or owner"
    assert stat.S_IMODE(private_parent.stat().st_mode) == 0o700


def test_stale_lock_gives_clear_message(private_parent: Path) -> None:
    data = private_parent / "var"
    server = EmbeddedPostgres(data / "pg", data / "run", "dialer_pg")
    server.start()
    server.stop()
    pid_file = data / "pg" / "postmaster.pid"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        pid_file.write_text(f"{sleeper.pid}\n{data / 'pg'}\n0\n5432\n\n\n\n\n")
        with pytest.raises(EmbeddedServerError, match="stale lock"):
            EmbeddedPostgres(data / "pg", data / "run", "dialer_pg").start()
    finally:
        sleeper.kill()
        pid_file.unlink(missing_ok=True)


def test_unwritable_data_folder_gives_clear_message() -> None:
    data = Path("/proc/dialer-cannot-exist/var")
    with pytest.raises(EmbeddedServerError, match=r"not writable.*DIALER_DATA_DIR"):
        EmbeddedPostgres(data / "pg", data / "run", "dialer_pg").start()


def test_redis_starts_reuses_and_stops(private_parent: Path) -> None:
    data = private_parent / "var"
    server = EmbeddedRedis(data / "redis", data / "run")
    server.start()
    try:
        assert server.socket_path.exists()
        again = EmbeddedRedis(data / "redis", data / "run")
        again.start()
        again.stop()
        assert server.socket_path.exists()
    finally:
        server.stop()
    assert not (data / "redis" / "redis.pid").exists() or not server._server_pid()


def test_sigterm_stops_embedded_servers(private_parent: Path) -> None:
    """A `dialer` process killed with SIGTERM stops the servers it started."""
    data = private_parent / "var"
    env = {**os.environ, "DIALER_DATA_DIR": str(data)}
    script = (
        "import asyncio\n"
        "from cli.context import run_async\n"
        "from config import load_settings\n"
        "from storage.runtime import open_storage\n"
        "async def main():\n"
        "    async with open_storage(load_settings()):\n"
        "        print('ready', flush=True)\n"
        "        await asyncio.sleep(60)\n"
        "try:\n"
        "    run_async(main)\n"
        "except KeyboardInterrupt:\n"
        "    print('stopped', flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert "stopped" in out
    deadline = time.monotonic() + 10
    server = EmbeddedPostgres(data / "pg", data / "run", "dialer_pg")
    while server.is_running() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not server.is_running()
    assert not (data / "redis" / "redis.pid").exists()
