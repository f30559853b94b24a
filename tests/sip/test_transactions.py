"""Transaction state machines and timers A–K (RFC 3261 §17), with explicit `now` and no sleeps."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.sip.invite_client import InviteClientTransaction
from dialer.sip.invite_server import InviteServerTransaction
from dialer.sip.message import Request, Response, parse_message
from dialer.sip.noninvite_client import NonInviteClientTransaction
from dialer.sip.noninvite_server import NonInviteServerTransaction
from dialer.sip.timers import TimerCallback, TimerConfig, TimerQueue
from dialer.sip.transaction import Peer, Transaction

PEER = ("10.0.0.2", 5060)


class Host:
    """The transaction-host port, recording what is sent (a test double of the core's port)."""

    def __init__(self) -> None:
        self.timers = TimerConfig()
        self.queue = TimerQueue()
        self.sent: list[tuple[float, bytes]] = []
        self.now = 0.0
        self.forgotten: list[Transaction] = []
        self.counters: dict[str, int] = {}

    def send(self, data: bytes, peer: Peer) -> None:
        self.sent.append((self.now, data))

    def schedule(self, deadline: float, callback: TimerCallback) -> int:
        return self.queue.schedule(deadline, callback)

    def cancel(self, token: int) -> None:
        self.queue.cancel(token)

    def forget(self, transaction: Transaction) -> None:
        self.forgotten.append(transaction)

    def note(self, counter: str) -> None:
        self.counters[counter] = self.counters.get(counter, 0) + 1

    def run_until(self, end: float) -> None:
        while (due := self.queue.next_deadline()) is not None and due <= end:
            self.now = due
            self.queue.fire_due(due)
        self.now = end

    def times(self, prefix: bytes) -> list[float]:
        return [t for t, data in self.sent if data.startswith(prefix)]


def _request(method: str) -> Request:
    raw = (
        f"{method} sip:x@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKt\r\n"
        f"From: <sip:a@b>;tag=1\r\nTo: <sip:x@c>\r\nCall-ID: c1\r\nCSeq: 1 {method}\r\n\r\n"
    ).encode()
    message = parse_message(raw)
    assert isinstance(message, Request)
    return message


def _response(status: int, method: str = "INVITE") -> Response:
    response = Response(status, "X")
    for name, value in _request(method).headers.items():
        response.headers.add(name, value)
    return response


def _ict(
    host: Host, seen: list[int], timeouts: list[float], reliable: bool = False
) -> InviteClientTransaction:
    txn = InviteClientTransaction(
        host,
        _request("INVITE"),
        "z9hG4bKt",
        PEER,
        reliable,
        lambda r, t: seen.append(r.status),
        timeouts.append,
    )
    txn.start(0.0)
    return txn


def test_timer_a_doubles_until_timer_b() -> None:
    host = Host()
    seen: list[int] = []
    timeouts: list[float] = []
    _ict(host, seen, timeouts)
    host.run_until(40.0)
    assert host.times(b"INVITE") == [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert timeouts == [32.0] and len(host.forgotten) == 1


def test_non_2xx_is_acked_and_timer_d_absorbs_retransmissions() -> None:
    host = Host()
    seen: list[int] = []
    timeouts: list[float] = []
    txn = _ict(host, seen, timeouts)
    txn.receive_response(_response(180), 0.2)
    host.run_until(5.0)
    assert host.times(b"INVITE") == [0.0]  # a provisional stops Timer A
    txn.receive_response(_response(486), 5.0)
    txn.receive_response(_response(486), 6.0)
    assert len(host.times(b"ACK")) == 2 and seen == [180, 486]
    host.run_until(5.0 + 31.9)
    assert not host.forgotten
    host.run_until(40.0)
    assert host.forgotten == [txn]


def test_2xx_moves_to_accepted_and_retransmissions_reach_the_core_rfc6026() -> None:
    host = Host()
    seen: list[int] = []
    timeouts: list[float] = []
    txn = _ict(host, seen, timeouts)
    txn.receive_response(_response(200), 1.0)
    txn.receive_response(_response(200), 1.5)
    assert seen == [200, 200] and not host.times(b"ACK")  # the core ACKs 2xx, not the txn
    host.run_until(33.1)
    assert host.forgotten == [txn]


def test_reliable_transport_has_no_timer_a_and_zero_timer_d() -> None:
    host = Host()
    seen: list[int] = []
    timeouts: list[float] = []
    txn = _ict(host, seen, timeouts, reliable=True)
    host.run_until(10.0)
    assert host.times(b"INVITE") == [0.0]
    txn.receive_response(_response(404), 10.0)
    host.run_until(10.0)
    assert host.forgotten == [txn]


def test_timer_e_backs_off_to_t2_then_f() -> None:
    host = Host()
    seen: list[int] = []
    timeouts: list[float] = []
    txn = NonInviteClientTransaction(
        host,
        _request("BYE"),
        "z9hG4bKt",
        PEER,
        False,
        lambda r, t: seen.append(r.status),
        timeouts.append,
    )
    txn.start(0.0)
    host.run_until(12.0)
    assert host.times(b"BYE") == [0.0, 0.5, 1.5, 3.5, 7.5, 11.5]
    host.run_until(40.0)
    assert timeouts == [32.0]


def test_timer_k_after_final() -> None:
    host = Host()
    seen: list[int] = []
    timeouts: list[float] = []
    txn = NonInviteClientTransaction(
        host,
        _request("OPTIONS"),
        "z9hG4bKt",
        PEER,
        False,
        lambda r, t: seen.append(r.status),
        timeouts.append,
    )
    txn.start(0.0)
    txn.receive_response(_response(200, "OPTIONS"), 0.1)
    host.run_until(5.0)
    assert not host.forgotten
    host.run_until(5.2)
    assert host.forgotten == [txn] and seen == [200] and not timeouts


def test_server_invite_timer_g_h_and_i() -> None:
    host = Host()
    timeouts: list[float] = []
    txn = InviteServerTransaction(
        host, _request("INVITE"), "z9hG4bKt", PEER, False, timeouts.append
    )
    txn.respond(_response(486), 0.0)
    host.run_until(2.0)
    assert host.times(b"SIP/2.0 486") == [0.0, 0.5, 1.5]
    txn.receive_request(_request("ACK"), 2.0)
    host.run_until(6.9)
    assert not host.forgotten and len(host.times(b"SIP/2.0 486")) == 3
    host.run_until(7.1)
    assert host.forgotten == [txn]
    lonely = InviteServerTransaction(Host(), _request("INVITE"), "b", PEER, False, timeouts.append)
    lonely.respond(_response(486), 0.0)
    assert isinstance(lonely.host, Host)
    lonely.host.run_until(40.0)
    assert timeouts == [32.0]


def test_server_non_invite_timer_j_absorbs_retransmissions() -> None:
    host = Host()
    txn = NonInviteServerTransaction(host, _request("BYE"), "z9hG4bKt", PEER, False)
    txn.respond(_response(200, "BYE"), 0.0)
    txn.receive_request(_request("BYE"), 1.0)
    assert len(host.times(b"SIP/2.0 200")) == 2
    host.run_until(31.9)
    assert not host.forgotten
    host.run_until(32.1)
    assert host.forgotten == [txn]


_CLIENT_INPUTS = st.lists(
    st.one_of(st.sampled_from([100, 180, 183, 200, 202, 401, 486, 503, 603]), st.floats(0.0, 40.0)),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(steps=_CLIENT_INPUTS, invite=st.booleans(), reliable=st.booleans())
def test_client_transactions_any_input_order(
    steps: list[int | float], invite: bool, reliable: bool
) -> None:
    """Every (state, input) sequence is handled; a terminated transaction holds no timer."""
    host = Host()
    seen: list[int] = []
    timeouts: list[float] = []
    kind = InviteClientTransaction if invite else NonInviteClientTransaction
    txn = kind(
        host,
        _request("INVITE" if invite else "BYE"),
        "b",
        PEER,
        reliable,
        lambda r, t: seen.append(r.status),
        timeouts.append,
    )
    txn.start(0.0)
    for step in steps:
        if isinstance(step, int):
            txn.receive_response(_response(step), host.now)
        else:
            host.run_until(host.now + step)
    host.run_until(host.now + 100.0)
    assert len(host.queue) == 0 and len(timeouts) <= 1
    if invite and txn.state.name == "PROCEEDING":  # §17.1.1.2: only the core's CANCEL ends it
        assert not host.forgotten and not [s for s in steps if isinstance(s, int) and s >= 200]
    else:
        assert txn.state.name == "TERMINATED" and len(host.forgotten) == 1
    if invite and not timeouts:
        assert seen and seen[0] == next(s for s in steps if isinstance(s, int))


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.sampled_from(["100", "180", "200", "486", "INVITE", "ACK", "wait"]), max_size=12
    ),
    reliable=st.booleans(),
)
def test_server_invite_transaction_any_input_order(steps: list[str], reliable: bool) -> None:
    host = Host()
    timeouts: list[float] = []
    txn = InviteServerTransaction(host, _request("INVITE"), "b", PEER, reliable, timeouts.append)
    for step in steps:
        if step.isdigit():
            txn.respond(_response(int(step)), host.now)
        elif step == "wait":
            host.run_until(host.now + 3.0)
        else:
            txn.receive_request(_request(step) if step == "INVITE" else _request("ACK"), host.now)
    final = [s for s in steps if s.isdigit() and int(s) >= 200]
    host.run_until(host.now + 100.0)
    assert (txn.state.name == "TERMINATED") == bool(final)
    if not final:
        assert len(host.queue) == 0 and not host.forgotten
