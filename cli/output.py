"""Report printing for CLI commands: one JSON object on stdout with --json, a table otherwise."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, TextIO


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        text = value.isoformat()
        return text.replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(report: Mapping[str, Any]) -> str:
    """Serialise one report with the glossary's conventions (UTC ISO-8601 with Z)."""
    return json.dumps(report, default=_default, ensure_ascii=False, sort_keys=False)


def emit(report: Mapping[str, Any], *, as_json: bool, out: TextIO | None = None) -> None:
    """Print a report: exactly one JSON object with --json, aligned key/value lines otherwise."""
    stream = out or sys.stdout
    if as_json:
        stream.write(to_json(report) + "\n")
        return
    width = max((len(k) for k in report), default=0)
    for key, value in report.items():
        shown = value if isinstance(value, str) else to_json({"v": value})[5:-1]
        stream.write(f"{key.ljust(width)}  {shown}\n")
    stream.flush()


def info(message: str) -> None:
    """A human-facing line on stderr (never on stdout, which belongs to the report)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
