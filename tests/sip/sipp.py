"""Helpers to run `sipp` (Debian `sip-tester`) as an independent SIP peer on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).parent / "scenarios"


def sipp_binary() -> str:
    """The sipp path. A missing sipp fails the test (the README's test command installs it):
    a skipped SIP suite would pass CI without ever meeting the independent peer."""
    path = shutil.which("sipp")
    if path is None:
        pytest.fail("sipp not found: install it with `apt-get install -y sip-tester`")
    return path


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_taken(port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


class Sipp:
    """One running sipp process; `wait()` returns its exit code (0: every call succeeded)."""

    def __init__(self, process: asyncio.subprocess.Process, port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log

    async def wait(self, timeout_s: float = 30.0) -> int:
        async with asyncio.timeout(timeout_s):
            return await self.process.wait()

    def errors(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


START_ATTEMPTS = 3
READY_TIMEOUT_S = 5.0


async def _start_uas(
    scenario_path: str, tmp_path: Path, calls: int, extra: tuple[str, ...], tcp: bool
) -> Sipp:
    """Start sipp on fresh free ports and wait until it listens; retried if it dies at start
    (a port taken between our probe and sipp's bind)."""
    binary = sipp_binary()
    kind = socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM
    for _ in range(START_ATTEMPTS):
        port, control = free_port(kind), free_port()
        log = tmp_path / f"sipp-{port}-errors.log"
        args = [
            binary, "-sf", scenario_path, "-i", "127.0.0.1", "-ci", "127.0.0.1", "-p", str(port),
            "-cp", str(control), "-nostdin", "-m", str(calls), "-timeout", "60s",
            "-timeout_error", "-trace_err", "-error_file", str(log), "-t", "t1" if tcp else "u1",
            *extra,
        ]  # fmt: skip
        process = await asyncio.create_subprocess_exec(
            *args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path
        )
        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT_S
        while process.returncode is None and not _port_taken(port, kind):
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.01)
        if process.returncode is None and _port_taken(port, kind):
            return Sipp(process, port, log)
        await _stop(process)
    pytest.fail(f"sipp did not start listening after {START_ATTEMPTS} attempts")


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await process.wait()
    if process.returncode is None:
        process.kill()
        await process.wait()


@contextlib.asynccontextmanager
async def sipp_uas(
    scenario: str, tmp_path: Path, *, calls: int, extra: tuple[str, ...] = (), tcp: bool = False
) -> AsyncIterator[Sipp]:
    """Start sipp as a UAS with `scenario` for `calls` calls, bounded in time; stop it after."""
    scenario_path = scenario if scenario.startswith("/") else str(SCENARIOS / scenario)
    sipp = await _start_uas(scenario_path, tmp_path, calls, extra, tcp)
    try:
        yield sipp
    finally:
        await _stop(sipp.process)
