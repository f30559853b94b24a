"""What every transaction state machine shares: the host port it runs on and timer handling."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, Protocol

from dialer.sip.message import Response
from dialer.sip.timers import TimerCallback, TimerConfig

Peer = tuple[str, int]


class TransactionHost(Protocol):
    """What a transaction needs from the user agent core that owns it."""

    timers: TimerConfig

    def send(self, data: bytes, peer: Peer) -> None: ...

    def schedule(self, deadline: float, callback: TimerCallback) -> int: ...

    def cancel(self, token: int) -> None: ...

    def forget(self, transaction: Transaction) -> None: ...

    def note(self, counter: str) -> None: ...


ResponseHandler = Callable[[Response, float], None]
TimeoutHandler = Callable[[float], None]


class Transaction:
    """Base: a state, a transition table, named timers; subclasses define the table."""

    State: type[Enum]
    TABLE: dict[tuple[Any, Any], tuple[Any, tuple[str, ...]]]
    terminated_state: Any

    def __init__(self, host: TransactionHost, key: tuple[str, str], peer: Peer, reliable: bool):
        self.host = host
        self.key = key
        self.peer = peer
        self.reliable = reliable
        self._timers: dict[str, int] = {}
        self.state: Any = None

    def _feed(self, event: Any, now: float) -> bool:
        """Apply one input through the table; inputs the table lacks are ignored (absorbed)."""
        step = self.TABLE.get((self.state, event))
        if step is None:
            return False
        self.state, actions = step
        for action in actions:
            getattr(self, action)(now)
        if self.state == self.terminated_state:
            self._disarm_all()
            self.host.forget(self)
        return True

    def _arm(self, name: str, delay_s: float, now: float, event: Any) -> None:
        self._disarm(name)
        self._timers[name] = self.host.schedule(now + delay_s, lambda t: self._fire(name, event, t))

    def _fire(self, name: str, event: Any, now: float) -> None:
        self._timers.pop(name, None)
        self._feed(event, now)

    def _disarm(self, name: str) -> None:
        token = self._timers.pop(name, None)
        if token is not None:
            self.host.cancel(token)

    def _disarm_all(self) -> None:
        for token in self._timers.values():
            self.host.cancel(token)
        self._timers.clear()


class ServerTransaction(Transaction):
    """Base of the server transactions: the response being sent and the last one sent, which
    a retransmitted request gets again."""

    def __init__(self, host: TransactionHost, key: tuple[str, str], peer: Peer, reliable: bool):
        super().__init__(host, key, peer, reliable)
        self._last: bytes | None = None
        self._pending = b""

    def transmit(self, now: float) -> None:
        self._last = self._pending
        self.host.send(self._pending, self.peer)

    def resend_last(self, now: float) -> None:
        if self._last is not None:
            self.host.send(self._last, self.peer)
            self.host.note("retransmissions")
