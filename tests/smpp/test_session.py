"""The sans-IO ESME session against the sans-IO SMSC core, in memory, with explicit time."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.smpp import events as ev
from dialer.smpp import pdu as p
from dialer.smpp.pdu import CommandId, Status
from dialer.smpp.session import (
    ACCEPTS,
    BindMode,
    LocalProtocolError,
    Session,
    SessionConfig,
    State,
)
from dialer.smpp.smsc import SmscConfig
from tests.smpp.pair import Pair


def _submit(dest: str = "79001234567", receipt: bool = True) -> p.SmPdu:
    return p.SmPdu(CommandId.SUBMIT_SM, 1, dest, b"hi", registered_delivery=int(receipt))


def _bound(smsc: SmscConfig | None = None, **esme: object) -> Pair:
    pair = Pair(smsc, SessionConfig("dialer", "secret", **esme))  # type: ignore[arg-type]
    pair.bind()
    assert pair.esme.state is State.BOUND
    return pair


def test_bind_succeeds_and_opens_the_window() -> None:
    pair = _bound(window=3)
    assert pair.of(ev.BindSucceeded) == [ev.BindSucceeded("simsmsc")]
    assert pair.esme.window_free == 3


@pytest.mark.parametrize(
    ("system_id", "password", "status"),
    [("dialer", "wrong", Status.ESME_RINVPASWD), ("other", "secret", Status.ESME_RINVSYSID)],
)
def test_bind_refused_closes(system_id: str, password: str, status: Status) -> None:
    pair = Pair(esme=SessionConfig(system_id, password))
    pair.bind()
    assert pair.of(ev.BindFailed) == [ev.BindFailed(status)]
    assert pair.esme.state is State.CLOSED
    assert isinstance(pair.events[-1], ev.SessionClosed)


def test_window_limits_submits_and_refills_on_responses() -> None:
    pair = _bound(SmscConfig(max_response_delay_ms=5, receipt_delay_ms=1), window=4)
    sequences = [pair.esme.submit(_submit(f"7900{i}"), pair.now) for i in range(4)]
    assert len(set(sequences)) == 4 and pair.esme.window_free == 0
    with pytest.raises(LocalProtocolError):
        pair.esme.submit(_submit(), pair.now)
    pair.advance(0.02)
    accepted = pair.of(ev.SubmitAccepted)
    assert sorted(e.sequence for e in accepted) == sorted(sequences)
    assert pair.esme.window_free == 4
    assert len(pair.of(ev.DeliverReceived)) == 4


def test_submit_refused_before_bind() -> None:
    esme = Session(SessionConfig("dialer", "secret"), 0.0)
    with pytest.raises(LocalProtocolError):
        esme.submit(_submit(), 0.0)


def test_throttling_statuses_are_their_own_event() -> None:
    pair = _bound(SmscConfig(throttle_rate=0.5, queue_full_rate=0.5))
    pair.esme.submit(_submit(), pair.now)
    pair.esme.submit(_submit(), pair.now)
    pair.pump()
    throttled = pair.of(ev.SubmitThrottled)
    assert {e.status for e in throttled} <= {Status.ESME_RTHROTTLED, Status.ESME_RMSGQFUL}
    assert len(throttled) == 2


def test_response_timer_reports_an_unknown_fate() -> None:
    pair = _bound(response_timeout_s=2.0)
    pair.smsc.should_close = True  # the SMSC stops answering
    sequence = pair.esme.submit(_submit(), pair.now)
    assert pair.esme.get_timer() == pytest.approx(pair.now + 2.0)
    pair.advance(1.9, step_s=0.1)
    assert not pair.of(ev.SubmitTimedOut)
    pair.advance(0.2, step_s=0.1)
    assert pair.of(ev.SubmitTimedOut) == [ev.SubmitTimedOut(sequence)]
    assert pair.esme.window_free == pair.esme.config.window


def test_enquire_link_when_idle_and_close_when_unanswered() -> None:
    pair = _bound(enquire_link_interval_s=5.0, response_timeout_s=1.0)
    pair.advance(5.5, step_s=0.5)
    assert pair.esme.state is State.BOUND  # the SMSC answered the probe
    pair.smsc.should_close = True
    pair.advance(7.0, step_s=0.5)
    closed = pair.of(ev.SessionClosed)
    assert closed and "enquire_link" in closed[0].reason


def test_smsc_enquire_link_is_answered() -> None:
    pair = _bound(SmscConfig(enquire_link_interval_s=1.0), enquire_link_interval_s=60.0)
    pair.advance(3.5, step_s=0.5)
    assert pair.esme.state is State.BOUND and not pair.of(ev.MalformedPduReceived)


def test_malformed_request_gets_generic_nack_with_its_sequence() -> None:
    pair = _bound()
    pair.esme.receive_data(p.HEADER.pack(16, 0x99, 0, 77), pair.now)
    nack = p.decode(pair.esme.data_to_send())
    assert nack == p.EmptyPdu(CommandId.GENERIC_NACK, 77, Status.ESME_RINVCMDID)
    body = b"\x00\x01\x011234\x00"
    pair.esme.receive_data(p.HEADER.pack(16 + len(body), CommandId.DELIVER_SM, 0, 78) + body, 0)
    assert p.decode(pair.esme.data_to_send()) == p.EmptyPdu(
        CommandId.GENERIC_NACK, 78, Status.ESME_RINVCMDLEN
    )
    assert len(pair.esme.events()) == 2 and pair.esme.state is State.BOUND


def test_absurd_length_loses_framing_and_closes() -> None:
    pair = _bound()
    pair.esme.receive_data(p.HEADER.pack(3, 4, 0, 9), pair.now)
    assert pair.esme.state is State.CLOSED
    assert p.decode(pair.esme.data_to_send()).command_id == CommandId.GENERIC_NACK


def test_generic_nack_for_a_submit_is_its_refusal() -> None:
    pair = _bound()
    sequence = pair.esme.submit(_submit(), pair.now)
    pair.esme.data_to_send()
    pair.esme.receive_data(
        p.encode(p.EmptyPdu(CommandId.GENERIC_NACK, sequence, Status.ESME_RTHROTTLED)), pair.now
    )
    assert pair.esme.events() == [ev.SubmitThrottled(sequence, Status.ESME_RTHROTTLED)]


def test_unbind_from_us_and_from_the_smsc() -> None:
    pair = _bound()
    pair.esme.unbind(pair.now)
    pair.pump()
    assert pair.esme.state is State.CLOSED and pair.smsc.should_close
    pair = _bound(SmscConfig(max_response_delay_ms=50))
    sequence = pair.esme.submit(_submit(), pair.now)
    pair.pump()
    pair.esme.receive_data(p.encode(p.EmptyPdu(CommandId.UNBIND, 500)), pair.now)
    assert p.decode(pair.esme.data_to_send()) == p.EmptyPdu(CommandId.UNBIND_RESP, 500)
    assert pair.esme.events()[-1] == ev.SessionClosed("unbound by the SMSC", (sequence,))


def test_transmitter_refuses_deliver_sm() -> None:
    pair = _bound(mode=BindMode.TRANSMITTER)
    pair.esme.receive_data(p.encode(p.SmPdu(CommandId.DELIVER_SM, 5, "1", b"x")), pair.now)
    assert p.decode(pair.esme.data_to_send()) == p.SmRespPdu(
        CommandId.DELIVER_SM_RESP, 5, Status.ESME_RINVBNDSTS
    )


def test_connection_lost_lists_unresolved_submits() -> None:
    pair = _bound(SmscConfig(max_response_delay_ms=100))
    sequences = {pair.esme.submit(_submit(), pair.now) for _ in range(3)}
    pair.pump()
    pair.esme.connection_lost()
    closed = pair.esme.events()[-1]
    assert isinstance(closed, ev.SessionClosed) and set(closed.unresolved) == sequences


ALL_COMMANDS = [c for c in CommandId]


def _pdu_for(command: CommandId, sequence: int) -> p.Pdu:
    if command in p.BIND_COMMANDS:
        return p.BindPdu(command, sequence, "x", "y")
    if command.name.startswith("BIND_"):
        return p.BindRespPdu(command, sequence, 0, "s")
    if command in (CommandId.SUBMIT_SM, CommandId.DELIVER_SM):
        return p.SmPdu(command, sequence, "1", b"x")
    if command in (CommandId.SUBMIT_SM_RESP, CommandId.DELIVER_SM_RESP):
        return p.SmRespPdu(command, sequence, 0, "id")
    return p.EmptyPdu(command, sequence)


def _session_in(state: State) -> Pair:
    pair = Pair(SmscConfig(max_response_delay_ms=1000))
    if state is not State.OPEN:
        pair.bind() if state is not State.BINDING else pair.esme.bind(pair.now)
    if state is State.UNBINDING:
        pair.esme.unbind(pair.now)
    if state is State.CLOSED:
        pair.esme.connection_lost()
    pair.esme.data_to_send()
    pair.esme.events()
    return pair


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(list(State)), st.sampled_from(ALL_COMMANDS), st.integers(1, 5))
def test_every_state_input_pair_is_handled(state: State, command: CommandId, seq: int) -> None:
    pair = _session_in(state)
    assert pair.esme.state is state
    pair.esme.receive_data(p.encode(_pdu_for(command, seq)), pair.now)
    out = pair.esme.data_to_send()
    frames = p.FrameBuffer().feed(out)
    assert all(not isinstance(p.decode(f), p.MalformedPdu) for f in frames)
    if command not in ACCEPTS[state] and not p.is_response(command) and state is not State.CLOSED:
        assert len(frames) == 1  # refused requests are answered, never ignored


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.integers(0, 9)), min_size=1, max_size=120),
    st.integers(p.MAX_SEQUENCE - 30, p.MAX_SEQUENCE),
)
def test_sequence_numbers_unique_in_the_window(steps: list[tuple[bool, int]], start: int) -> None:
    """Random submits and out-of-order responses, across the 0x7FFFFFFF wrap."""
    esme = Session(SessionConfig("dialer", "secret", window=10), 0.0)
    esme._next_sequence = start  # start near the wrap-around
    esme.bind(0.0)
    bind_seq = p.decode(esme.data_to_send()).sequence
    esme.receive_data(p.encode(p.BindRespPdu(CommandId.BIND_TRANSCEIVER_RESP, bind_seq, 0)), 0)
    in_flight: list[int] = []
    for submit, pick in steps:
        if submit and esme.window_free:
            sequence = esme.submit(_submit(), 0.0)
            assert sequence not in in_flight and 1 <= sequence <= p.MAX_SEQUENCE
            in_flight.append(sequence)
        elif in_flight:
            sequence = in_flight.pop(pick % len(in_flight))
            resp = p.SmRespPdu(CommandId.SUBMIT_SM_RESP, sequence, 0, f"m{sequence}")
            esme.receive_data(p.encode(resp), 0.0)
        assert sorted(esme.in_flight) == sorted(in_flight)
        assert esme.window_free == 10 - len(in_flight)
