"""The INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 Accepted state): timers G, H, I, L."""

from __future__ import annotations

from enum import Enum, auto

from dialer.sip.message import Request, Response
from dialer.sip.transaction import Peer, ServerTransaction, TimeoutHandler, TransactionHost


class State(Enum):
    PROCEEDING = auto()
    COMPLETED = auto()
    CONFIRMED = auto()
    ACCEPTED = auto()
    TERMINATED = auto()


class Input(Enum):
    REQUEST = auto()  # a retransmission of the INVITE
    SEND_PROVISIONAL = auto()
    SEND_SUCCESS = auto()
    SEND_FAILURE = auto()
    ACK = auto()
    TIMER_G = auto()
    TIMER_H = auto()
    TIMER_I = auto()
    TIMER_L = auto()


S, In = State, Input
TABLE: dict[tuple[State, Input], tuple[State, tuple[str, ...]]] = {
    (S.PROCEEDING, In.REQUEST): (S.PROCEEDING, ("resend_last",)),
    (S.PROCEEDING, In.SEND_PROVISIONAL): (S.PROCEEDING, ("transmit",)),
    (S.PROCEEDING, In.SEND_SUCCESS): (S.ACCEPTED, ("transmit", "arm_l")),
    (S.PROCEEDING, In.SEND_FAILURE): (S.COMPLETED, ("transmit", "arm_g", "arm_h")),
    (S.COMPLETED, In.REQUEST): (S.COMPLETED, ("resend_last",)),
    (S.COMPLETED, In.TIMER_G): (S.COMPLETED, ("resend_last", "arm_g_backoff")),
    (S.COMPLETED, In.TIMER_H): (S.TERMINATED, ("report_timeout",)),
    (S.COMPLETED, In.ACK): (S.CONFIRMED, ("stop_timers", "arm_i")),
    (S.CONFIRMED, In.TIMER_I): (S.TERMINATED, ()),
    (S.ACCEPTED, In.SEND_SUCCESS): (S.ACCEPTED, ("transmit",)),
    (S.ACCEPTED, In.REQUEST): (S.ACCEPTED, ()),
    (S.ACCEPTED, In.TIMER_L): (S.TERMINATED, ()),
}


class InviteServerTransaction(ServerTransaction):
    """Answers one received INVITE: resends the last response on retransmits, waits for ACK."""

    TABLE = TABLE
    terminated_state = State.TERMINATED

    def __init__(
        self,
        host: TransactionHost,
        request: Request,
        branch: str,
        peer: Peer,
        reliable: bool,
        on_timeout: TimeoutHandler,
    ) -> None:
        super().__init__(host, (branch, "INVITE"), peer, reliable)
        self.request = request
        self.on_timeout = on_timeout
        self.state = State.PROCEEDING
        self._g_interval_s = host.timers.t1_s

    def respond(self, response: Response, now: float) -> None:
        self._pending = response.to_bytes()
        if response.status < 200:
            kind = Input.SEND_PROVISIONAL
        elif response.status < 300:
            kind = Input.SEND_SUCCESS
        else:
            kind = Input.SEND_FAILURE
        self._feed(kind, now)

    def receive_request(self, request: Request, now: float) -> None:
        self._feed(Input.ACK if request.method == "ACK" else Input.REQUEST, now)

    def arm_g(self, now: float) -> None:
        if not self.reliable:
            self._arm("G", self._g_interval_s, now, Input.TIMER_G)

    def arm_g_backoff(self, now: float) -> None:
        self._g_interval_s = min(2 * self._g_interval_s, self.host.timers.t2_s)
        self._arm("G", self._g_interval_s, now, Input.TIMER_G)

    def arm_h(self, now: float) -> None:
        self._arm("H", self.host.timers.timeout_s, now, Input.TIMER_H)

    def arm_i(self, now: float) -> None:
        self._arm("I", 0.0 if self.reliable else self.host.timers.t4_s, now, Input.TIMER_I)

    def arm_l(self, now: float) -> None:
        self._arm("L", self.host.timers.timeout_s, now, Input.TIMER_L)

    def stop_timers(self, now: float) -> None:
        self._disarm_all()

    def report_timeout(self, now: float) -> None:
        self.host.note("transaction_timeouts")
        self.on_timeout(now)
