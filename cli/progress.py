"""A one-line progress display on stderr, shown only when stderr is a terminal."""

from __future__ import annotations

import sys
import time


class Progress:
    """`label: 120,000 rows  41,200 rows/s`, redrawn at most ten times a second."""

    def __init__(self, label: str, unit: str = "rows") -> None:
        self.label = label
        self.unit = unit
        self.enabled = sys.stderr.isatty()
        self.started = time.monotonic()
        self.last_draw = 0.0

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last_draw < 0.1:
            return
        self.last_draw = now
        rate = done / max(now - self.started, 1e-9)
        sys.stderr.write(f"\r{self.label}: {done:,} {self.unit}  {rate:,.0f} {self.unit}/s   ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()
