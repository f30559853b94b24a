"""The house rules a machine can check: package layering, the Permit gate, config, docstrings."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = (
    "config",
    "storage",
    "compliance",
    "pacing",
    "campaigns",
    "inbound",
    "dialer",
    "api",
    "cli",
)


def product_modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py"))


def test_package_layering_contracts_hold() -> None:
    """import-linter contracts in pyproject.toml (DESIGN.md's 'must not import' column)."""
    beside = Path(sys.executable).parent / "lint-imports"
    exe = str(beside) if beside.exists() else (shutil.which("lint-imports") or "lint-imports")
    result = subprocess.run([exe], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_permits_are_constructed_only_in_compliance() -> None:
    offenders: list[str] = []
    for path in product_modules():
        if path.parts[len(REPO.parts)] == "compliance":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name == "Permit":
                    offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert offenders == []


def test_permit_refuses_direct_construction() -> None:
    from datetime import UTC, datetime

    from compliance.permit import Permit, PermitError
    from config.vocabulary import Channel, Purpose

    now = datetime.now(UTC)
    with pytest.raises(PermitError):
        Permit("+12125550100", Channel.CALL, Purpose.SURVEY, (), now, now)


def test_only_config_reads_the_environment() -> None:
    offenders = [
        str(path.relative_to(REPO))
        for path in product_modules()
        if path.parts[len(REPO.parts)] != "config"
        and ("os.environ" in path.read_text() or "os.getenv" in path.read_text())
    ]
    assert offenders == []


def test_every_module_opens_with_a_docstring() -> None:
    missing = [
        str(path.relative_to(REPO))
        for path in product_modules()
        if path.stat().st_size and not ast.get_docstring(ast.parse(path.read_text()))
    ]
    assert missing == []


def test_no_aioredis_and_no_geocoder() -> None:
    for path in product_modules():
        text = path.read_text()
        assert "import aioredis" not in text and "from aioredis" not in text, path
        geocoder = "phonenumbers." + "geocoder"  # split so repository greps find only real uses
        assert geocoder not in text and "import " + "geocoder" not in text, path
