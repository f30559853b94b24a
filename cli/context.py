"""Shared plumbing for CLI commands: errors, logging, running a coroutine with signal handling."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from config import Settings

T = TypeVar("T")


class CommandError(Exception):
    """A command failed in a way the user can act on; printed without a traceback."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class StructuredFormatter(logging.Formatter):
    """`ts level logger event key=value ...` lines, or one JSON object per line."""

    def __init__(self, as_json: bool) -> None:
        super().__init__()
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", {})
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        ts += f".{int(record.msecs):03d}Z"
        if self.as_json:
            payload = {"ts": ts, "level": record.levelname.lower(), "logger": record.name}
            payload["event"] = record.getMessage()
            payload.update(fields)
            return json.dumps(payload, default=str, ensure_ascii=False)
        extra = " ".join(f"{k}={v}" for k, v in fields.items())
        line = f"{ts} {record.levelname.lower():5} {record.name}: {record.getMessage()}"
        return f"{line} {extra}".rstrip()


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(StructuredFormatter(settings.log.json))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log.level.upper())


def run_async(main: Callable[[], Awaitable[T]]) -> T:
    """Run `main` on a fresh loop; SIGINT/SIGTERM cancel it so every `finally` (servers) runs."""

    async def runner() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)
        try:
            return await main()
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)

    try:
        return asyncio.run(runner())
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None
