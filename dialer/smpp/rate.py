"""Send-rate cores: a token bucket for one bind's submits/s and a per-destination spacing.

Pure: no IO, `now` is passed in (monotonic seconds for the bucket, any float clock for spacing).
"""

from __future__ import annotations

from collections import OrderedDict


class TokenBucket:
    """At most `rate_per_s` on average, bursts up to `burst`; a rate of 0 means unlimited."""

    def __init__(self, rate_per_s: float, burst: float | None = None, now: float = 0.0) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst if burst is not None else max(1.0, rate_per_s / 10)
        self._tokens = self.burst
        self._at = now

    def _refill(self, now: float) -> None:
        if now > self._at:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate_per_s)
            self._at = now

    def take(self, wanted: int, now: float) -> int:
        """How many of `wanted` may go now (they are counted as gone)."""
        if self.rate_per_s <= 0:
            return wanted
        self._refill(now)
        granted = min(wanted, int(self._tokens))
        self._tokens -= granted
        return granted

    def next_at(self, now: float) -> float:
        """When the next single token is available."""
        if self.rate_per_s <= 0:
            return now
        self._refill(now)
        missing = 1.0 - self._tokens
        return now if missing <= 0 else now + missing / self.rate_per_s


class DestinationSpacing:
    """At least `interval_s` between two messages to one destination (recent ones remembered)."""

    def __init__(self, interval_s: float, max_destinations: int = 200_000) -> None:
        self.interval_s = interval_s
        self._last: OrderedDict[str, float] = OrderedDict()
        self._max = max_destinations

    def wait_s(self, destination: str, now: float) -> float:
        """0 when a message may go to `destination` now (and it is counted), else how long."""
        last = self._last.get(destination)
        if last is not None and now - last < self.interval_s:
            return self.interval_s - (now - last)
        self._last.pop(destination, None)
        self._last[destination] = now
        while len(self._last) > self._max:
            self._last.popitem(last=False)
        return 0.0
