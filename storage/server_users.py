"""Who uses an embedded server: a per-process marker file and a lock, so the last user stops it.

Several `dialer` processes (or several handles in one process) may share one data folder. Each
handle registers a marker named `<pid>.<token>`; a handle stopping the server first drops its
marker and stops the server only when no marker of a live process is left, whoever started it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil


class ServerUsers:
    """Marker files `<run_dir>/<name>.users/<pid>.<token>` guarded by `<run_dir>/<name>.lock`."""

    def __init__(self, run_dir: Path, name: str) -> None:
        self.users_dir = run_dir / f"{name}.users"
        self.lock_path = run_dir / f"{name}.lock"
        self.marker = f"{os.getpid()}.{uuid.uuid4().hex[:8]}"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        self.users_dir.mkdir(parents=True, exist_ok=True)
        with self.lock_path.open("a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def add(self) -> None:
        (self.users_dir / self.marker).touch()

    def remove(self) -> None:
        (self.users_dir / self.marker).unlink(missing_ok=True)

    def live_others(self) -> list[int]:
        """PIDs of other live handles; markers of dead processes are cleaned up on the way."""
        alive: list[int] = []
        for marker in self.users_dir.glob("*"):
            try:
                pid = int(marker.name.split(".")[0])
            except ValueError:
                continue
            if marker.name == self.marker:
                continue
            if psutil.pid_exists(pid):
                alive.append(pid)
            else:
                marker.unlink(missing_ok=True)
        return alive
