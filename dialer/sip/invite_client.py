"""The INVITE client transaction (RFC 3261 §17.1.1, RFC 6026 Accepted state): timers A, B, D, M."""

from __future__ import annotations

from enum import Enum, auto

from dialer.sip.message import Headers, Request, Response
from dialer.sip.transaction import (
    Peer,
    ResponseHandler,
    TimeoutHandler,
    Transaction,
    TransactionHost,
)


class State(Enum):
    CALLING = auto()
    PROCEEDING = auto()
    COMPLETED = auto()
    ACCEPTED = auto()
    TERMINATED = auto()


class Input(Enum):
    PROVISIONAL = auto()
    SUCCESS = auto()
    FAILURE = auto()
    TIMER_A = auto()
    TIMER_B = auto()
    TIMER_D = auto()
    TIMER_M = auto()


S, In = State, Input
TABLE: dict[tuple[State, Input], tuple[State, tuple[str, ...]]] = {
    (S.CALLING, In.TIMER_A): (S.CALLING, ("retransmit", "arm_a")),
    (S.CALLING, In.TIMER_B): (S.TERMINATED, ("report_timeout",)),
    (S.CALLING, In.PROVISIONAL): (S.PROCEEDING, ("stop_timers", "pass_up")),
    (S.CALLING, In.SUCCESS): (S.ACCEPTED, ("stop_timers", "pass_up", "arm_m")),
    (S.CALLING, In.FAILURE): (S.COMPLETED, ("stop_timers", "send_ack", "pass_up", "arm_d")),
    (S.PROCEEDING, In.PROVISIONAL): (S.PROCEEDING, ("pass_up",)),
    (S.PROCEEDING, In.SUCCESS): (S.ACCEPTED, ("pass_up", "arm_m")),
    (S.PROCEEDING, In.FAILURE): (S.COMPLETED, ("send_ack", "pass_up", "arm_d")),
    (S.COMPLETED, In.FAILURE): (S.COMPLETED, ("send_ack",)),
    (S.COMPLETED, In.TIMER_D): (S.TERMINATED, ()),
    (S.ACCEPTED, In.SUCCESS): (S.ACCEPTED, ("pass_up",)),
    (S.ACCEPTED, In.TIMER_M): (S.TERMINATED, ()),
}


class InviteClientTransaction(Transaction):
    """Sends one INVITE, retransmits it over UDP, ACKs non-2xx finals, passes 2xx up."""

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
        super().__init__(host, (branch, "INVITE"), peer, reliable)
        self.request = request
        self.wire = request.to_bytes()
        self.on_response = on_response
        self.on_timeout = on_timeout
        self.state = State.CALLING
        self._a_interval_s = host.timers.t1_s
        self._response: Response | None = None

    def start(self, now: float) -> None:
        self.host.send(self.wire, self.peer)
        if not self.reliable:
            self._arm("A", self._a_interval_s, now, Input.TIMER_A)
        self._arm("B", self.host.timers.timeout_s, now, Input.TIMER_B)

    def receive_response(self, response: Response, now: float) -> None:
        self._response = response
        if response.status < 200:
            kind = Input.PROVISIONAL
        elif response.status < 300:
            kind = Input.SUCCESS
        else:
            kind = Input.FAILURE
        self._feed(kind, now)

    # actions named in TABLE
    def retransmit(self, now: float) -> None:
        self.host.send(self.wire, self.peer)
        self.host.note("retransmissions")

    def arm_a(self, now: float) -> None:
        self._a_interval_s *= 2
        self._arm("A", self._a_interval_s, now, Input.TIMER_A)

    def stop_timers(self, now: float) -> None:
        self._disarm_all()

    def pass_up(self, now: float) -> None:
        assert self._response is not None
        self.on_response(self._response, now)

    def send_ack(self, now: float) -> None:
        assert self._response is not None
        self.host.send(self.ack_for(self._response).to_bytes(), self.peer)

    def arm_d(self, now: float) -> None:
        self._arm("D", 0.0 if self.reliable else self.host.timers.d_s, now, Input.TIMER_D)

    def arm_m(self, now: float) -> None:
        self._arm("M", self.host.timers.timeout_s, now, Input.TIMER_M)

    def report_timeout(self, now: float) -> None:
        self.host.note("transaction_timeouts")
        self.on_timeout(now)

    def ack_for(self, response: Response) -> Request:
        """The ACK for a non-2xx final (§17.1.1.3): same branch, To from the response."""
        src = self.request.headers
        headers = Headers()
        headers.add("via", src.get("via") or "")
        for route in src.lines("route"):
            headers.add("route", route)
        headers.add("max-forwards", "70")
        headers.add("from", src.get("from") or "")
        headers.add("to", response.headers.get("to") or "")
        headers.add("call-id", src.get("call-id") or "")
        headers.add("cseq", (src.get("cseq") or "1 INVITE").split(" ")[0] + " ACK")
        return Request("ACK", self.request.uri, headers)
