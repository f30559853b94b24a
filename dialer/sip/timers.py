"""RFC 3261 timer values and the deadline queue every core schedules its timers on (no clock)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass

TimerCallback = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class TimerConfig:
    """T1, T2, T4 of RFC 3261 §17 (seconds); the lettered timers derive from them."""

    t1_s: float = 0.5
    t2_s: float = 4.0
    t4_s: float = 5.0

    @property
    def timeout_s(self) -> float:
        """64·T1: timers B, F, H, J (unreliable) and L, M (RFC 6026)."""
        return 64 * self.t1_s

    @property
    def d_s(self) -> float:
        """Timer D: how long a completed INVITE client transaction absorbs retransmissions."""
        return max(32.0, self.timeout_s)


class TimerQueue:
    """A heap of (deadline, token, callback); cancelled tokens are dropped lazily."""

    __slots__ = ("_active", "_counter", "_heap")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, TimerCallback]] = []
        self._active: set[int] = set()
        self._counter = itertools.count(1)

    def schedule(self, deadline: float, callback: TimerCallback) -> int:
        token = next(self._counter)
        heapq.heappush(self._heap, (deadline, token, callback))
        self._active.add(token)
        return token

    def cancel(self, token: int) -> None:
        """Forget a timer; the heap is compacted once cancelled entries outnumber live ones."""
        self._active.discard(token)
        heap = self._heap
        if len(heap) > 4096 and len(heap) > 2 * len(self._active):
            self._heap = [entry for entry in heap if entry[1] in self._active]
            heapq.heapify(self._heap)

    def next_deadline(self) -> float | None:
        heap = self._heap
        while heap and heap[0][1] not in self._active:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def fire_due(self, now: float) -> int:
        """Run every callback whose deadline is <= now (including ones they schedule)."""
        fired = 0
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, token, callback = heapq.heappop(heap)
            if token in self._active:
                self._active.discard(token)
                callback(now)
                fired += 1
        return fired

    def __len__(self) -> int:
        return len(self._active)
