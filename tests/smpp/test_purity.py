"""The SMPP cores stay sans-IO: no asyncio, sockets or clock reads in their modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dialer.smpp

CORES = ["gsm7", "pdu", "segmentation", "receipts", "replies", "session", "smsc", "events"]
FORBIDDEN = {"asyncio", "socket", "ssl", "selectors", "asyncpg", "redis", "aiohttp"}


@pytest.mark.parametrize("name", CORES)
def test_core_imports_no_io(name: str) -> None:
    path = Path(dialer.smpp.__file__).parent / f"{name}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN
    calls = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert not calls & {"time.time", "time.monotonic", "datetime.now", "time.perf_counter"}
