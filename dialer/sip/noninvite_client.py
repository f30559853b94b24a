"""The non-INVITE client transaction (RFC 3261 §17.1.2: BYE, CANCEL, OPTIONS, REGISTER): E, F, K."""

from __future__ import annotations

from enum import Enum, auto

from dialer.sip.message import Request, Response
from dialer.sip.transaction import (
    Peer,
    ResponseHandler,
    TimeoutHandler,
    Transaction,
    TransactionHost,
)


class State(Enum):
    TRYING = auto()
    PROCEEDING = auto()
    COMPLETED = auto()
    TERMINATED = auto()


class Input(Enum):
    PROVISIONAL = auto()
    FINAL = auto()
    TIMER_E = auto()
    TIMER_F = auto()
    TIMER_K = auto()


S, In = State, Input
TABLE: dict[tuple[State, Input], tuple[State, tuple[str, ...]]] = {
    (S.TRYING, In.TIMER_E): (S.TRYING, ("retransmit", "arm_e_backoff")),
    (S.TRYING, In.TIMER_F): (S.TERMINATED, ("report_timeout",)),
    (S.TRYING, In.PROVISIONAL): (S.PROCEEDING, ("pass_up",)),
    (S.TRYING, In.FINAL): (S.COMPLETED, ("stop_timers", "pass_up", "arm_k")),
    (S.PROCEEDING, In.TIMER_E): (S.PROCEEDING, ("retransmit", "arm_e_t2")),
    (S.PROCEEDING, In.TIMER_F): (S.TERMINATED, ("report_timeout",)),
    (S.PROCEEDING, In.PROVISIONAL): (S.PROCEEDING, ("pass_up",)),
    (S.PROCEEDING, In.FINAL): (S.COMPLETED, ("stop_timers", "pass_up", "arm_k")),
    (S.COMPLETED, In.TIMER_K): (S.TERMINATED, ()),
}


class NonInviteClientTransaction(Transaction):
    """Sends one non-INVITE request, retransmits it over UDP, passes the responses up."""

    TABLE = TABLE
    terminated_state = State.TERMINATED

    def __init__(
        self,
        host: TransactionHost,
        request: Request,
        branch: str,
        peer: Peer,
        reliable: bool,
        on_response: ResponseHandler,
        on_timeout: TimeoutHandler,
    ) -> None:
        super().__init__(host, (branch, request.method), peer, reliable)
        self.request = request
        self.wire = request.to_bytes()
        self.on_response = on_response
        self.on_timeout = on_timeout
        self.state = State.TRYING
        self._e_interval_s = host.timers.t1_s
        self._response: Response | None = None

    def start(self, now: float) -> None:
        self.host.send(self.wire, self.peer)
        if not self.reliable:
            self._arm("E", self._e_interval_s, now, Input.TIMER_E)
        self._arm("F", self.host.timers.timeout_s, now, Input.TIMER_F)

    def receive_response(self, response: Response, now: float) -> None:
        self._response = response
        self._feed(Input.PROVISIONAL if response.status < 200 else Input.FINAL, now)

    def retransmit(self, now: float) -> None:
        self.host.send(self.wire, self.peer)
        self.host.note("retransmissions")

    def arm_e_backoff(self, now: float) -> None:
        self._e_interval_s = min(2 * self._e_interval_s, self.host.timers.t2_s)
        self._arm("E", self._e_interval_s, now, Input.TIMER_E)

    def arm_e_t2(self, now: float) -> None:
        self._arm("E", self.host.timers.t2_s, now, Input.TIMER_E)

    def stop_timers(self, now: float) -> None:
        self._disarm_all()

    def pass_up(self, now: float) -> None:
        assert self._response is not None
        self.on_response(self._response, now)

    def arm_k(self, now: float) -> None:
        self._arm("K", 0.0 if self.reliable else self.host.timers.t4_s, now, Input.TIMER_K)

    def report_timeout(self, now: float) -> None:
        self.host.note("transaction_timeouts")
        self.on_timeout(now)
