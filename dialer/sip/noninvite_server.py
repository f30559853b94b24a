"""The non-INVITE server transaction (RFC 3261 §17.2.2): BYE, CANCEL, OPTIONS received; timer J."""

from __future__ import annotations

from enum import Enum, auto

from dialer.sip.message import Request, Response
from dialer.sip.transaction import Peer, ServerTransaction, TransactionHost


class State(Enum):
    TRYING = auto()
    PROCEEDING = auto()
    COMPLETED = auto()
    TERMINATED = auto()


class Input(Enum):
    REQUEST = auto()
    SEND_PROVISIONAL = auto()
    SEND_FINAL = auto()
    TIMER_J = auto()


S, In = State, Input
TABLE: dict[tuple[State, Input], tuple[State, tuple[str, ...]]] = {
    (S.TRYING, In.REQUEST): (S.TRYING, ()),
    (S.TRYING, In.SEND_PROVISIONAL): (S.PROCEEDING, ("transmit",)),
    (S.TRYING, In.SEND_FINAL): (S.COMPLETED, ("transmit", "arm_j")),
    (S.PROCEEDING, In.REQUEST): (S.PROCEEDING, ("resend_last",)),
    (S.PROCEEDING, In.SEND_PROVISIONAL): (S.PROCEEDING, ("transmit",)),
    (S.PROCEEDING, In.SEND_FINAL): (S.COMPLETED, ("transmit", "arm_j")),
    (S.COMPLETED, In.REQUEST): (S.COMPLETED, ("resend_last",)),
    (S.COMPLETED, In.TIMER_J): (S.TERMINATED, ()),
}


class NonInviteServerTransaction(ServerTransaction):
    """Answers one received non-INVITE request and absorbs its retransmissions."""

    TABLE = TABLE
    terminated_state = State.TERMINATED

    def __init__(
        self, host: TransactionHost, request: Request, branch: str, peer: Peer, reliable: bool
    ) -> None:
        super().__init__(host, (branch, request.method), peer, reliable)
        self.request = request
        self.state = State.TRYING

    def respond(self, response: Response, now: float) -> None:
        self._pending = response.to_bytes()
        self._feed(Input.SEND_PROVISIONAL if response.status < 200 else Input.SEND_FINAL, now)

    def receive_request(self, request: Request, now: float) -> None:
        self._feed(Input.REQUEST, now)

    def arm_j(self, now: float) -> None:
        self._arm("J", 0.0 if self.reliable else self.host.timers.timeout_s, now, Input.TIMER_J)
