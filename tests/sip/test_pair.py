"""Core pair tests: our UAC core against our UAS core in memory, time advanced explicitly."""

from __future__ import annotations

from collections.abc import Sequence

from config.vocabulary import CallOutcome
from dialer.sip.events import (
    CallAnswered,
    CallConfirmed,
    CallEnded,
    CallOffered,
    EarlyMediaStarted,
    HangupBy,
    OptionsAnswered,
    RingingStarted,
)
from dialer.sip.sdp import build_answer, parse_sdp
from dialer.sip.uas import InboundCall
from tests.sip.pair import UAS_ADDR, Pair, call_spec, make_pair


def _offered(pair: Pair) -> InboundCall:
    offers = [e for e in pair.uas_events if isinstance(e, CallOffered)]
    assert offers, "the UAS saw no INVITE"
    call = pair.uas.calls[offers[-1].call_id]
    assert isinstance(call, InboundCall)
    return call


def _answer_sdp(call: InboundCall) -> bytes:
    offer = parse_sdp(call.invite.body)
    assert offer is not None
    answer = build_answer(offer, "10.0.0.2", 30000, 7)
    assert answer is not None
    return answer


def _ended(events: Sequence[object]) -> CallEnded:
    ended = [e for e in events if isinstance(e, CallEnded)]
    assert len(ended) == 1, ended
    return ended[0]


def test_answer_then_our_bye() -> None:
    pair = make_pair()
    call = pair.uac.invite(UAS_ADDR, call_spec(), pair.now)
    pair.pump()
    far = _offered(pair)
    pair.advance(1.0)
    far.ring(pair.now)
    pair.pump()
    pair.advance(4.0)
    far.answer(pair.now, _answer_sdp(far))
    pair.pump()
    assert any(isinstance(e, CallConfirmed) for e in pair.uas_events)
    answered = [e for e in pair.uac_events if isinstance(e, CallAnswered)]
    assert answered and parse_sdp(answered[0].sdp) is not None
    pair.advance(10.0)
    pair.uac.hangup(call.call_id, pair.now)
    pair.pump()
    ended = _ended(pair.uac_events)
    assert ended.outcome == CallOutcome.ANSWERED and ended.hangup_by == HangupBy.US
    assert abs(ended.ring_s - 4.0) < 1e-9 and abs(ended.talk_s - 10.0) < 1e-9
    assert _ended(pair.uas_events).hangup_by == HangupBy.THEM
    assert pair.uac.live_calls == 0 and pair.uas.live_calls == 0


def test_busy_is_acked_and_mapped() -> None:
    pair = make_pair()
    pair.uac.invite(UAS_ADDR, call_spec(), pair.now)
    pair.pump()
    _offered(pair).reject(pair.now, 486)
    pair.pump()
    ended = _ended(pair.uac_events)
    assert (ended.outcome, ended.sip_code) == (CallOutcome.BUSY, 486)
    assert len(pair.starts("ACK")) == 1


def test_ring_timeout_counts_from_first_ring_then_cancel_487() -> None:
    pair = make_pair()
    pair.uac.invite(UAS_ADDR, call_spec(ring_timeout_s=15.0, setup_cap_s=30.0), pair.now)
    pair.pump()
    far = _offered(pair)
    pair.advance(6.0)  # post-dial delay does not count
    far.ring(pair.now)
    pair.pump()
    pair.advance(14.9)
    assert not pair.starts("CANCEL")
    pair.advance(0.2)
    assert len(pair.starts("CANCEL")) == 1
    ended = _ended(pair.uac_events)
    assert (ended.outcome, ended.sip_code) == (CallOutcome.NO_ANSWER, 487)
    assert abs(ended.ring_s - 15.0) < 1e-6
    assert len(pair.starts("ACK")) == 1


def test_setup_cap_without_any_provisional_waits_to_cancel() -> None:
    pair = make_pair()
    pair.uas.config = pair.uas.config  # the UAS will stay silent: drop everything it sends
    pair.drop = lambda data, dest: dest[1] == 5060
    pair.uac.invite(UAS_ADDR, call_spec(setup_cap_s=5.0), pair.now)
    pair.advance(6.0)
    assert not pair.starts("CANCEL"), "CANCEL before any provisional violates RFC 3261 §9.1"
    pair.advance(40.0)
    ended = _ended(pair.uac_events)
    assert ended.outcome == CallOutcome.FAILED and ended.sip_code == 408


def test_200_crossing_cancel_gets_ack_then_bye() -> None:
    pair = make_pair()
    call = pair.uac.invite(UAS_ADDR, call_spec(ring_timeout_s=15.0), pair.now)
    pair.pump()
    far = _offered(pair)
    far.ring(pair.now)
    pair.pump()
    held: list[bytes] = []

    def hold_cancel(data: bytes, dest: tuple[str, int]) -> bool:
        if data.startswith(b"CANCEL"):
            held.append(data)
            return True
        return False

    pair.drop = hold_cancel
    pair.advance(15.1)  # our CANCEL leaves but is still in flight ...
    assert held
    far.answer(pair.now, _answer_sdp(far))  # ... when the far end answers
    pair.drop = lambda data, dest: False
    pair.uas.receive(held[0], ("10.0.0.1", 5060), pair.now)
    pair.pump()
    assert len(pair.starts("BYE")) == 1
    ended = _ended(pair.uac_events)
    assert ended.crossed_cancel and ended.outcome == CallOutcome.NO_ANSWER
    assert call.ack is not None


def test_2xx_retransmissions_are_each_acked_rfc6026() -> None:
    pair = make_pair()
    pair.uac.invite(UAS_ADDR, call_spec(), pair.now)
    pair.pump()
    far = _offered(pair)
    lost_acks = [0]

    def lose_two_acks(data: bytes, dest: tuple[str, int]) -> bool:
        if data.startswith(b"ACK") and lost_acks[0] < 2:
            lost_acks[0] += 1
            return True
        return False

    pair.drop = lose_two_acks
    far.answer(pair.now, _answer_sdp(far))
    pair.pump()
    pair.advance(2.0)  # 2xx resent at T1 and 2·T1
    assert len(pair.starts("SIP/2.0 200")) == 3
    assert len(pair.starts("ACK")) == 3
    assert any(isinstance(e, CallConfirmed) for e in pair.uas_events)
    assert len([e for e in pair.uac_events if isinstance(e, CallAnswered)]) == 1


def test_invite_retransmitted_under_loss_with_timer_a() -> None:
    pair = make_pair()
    first = [True]

    def lose_first_invite(data: bytes, dest: tuple[str, int]) -> bool:
        if data.startswith(b"INVITE") and first[0]:
            first[0] = False
            return True
        return False

    pair.drop = lose_first_invite
    pair.uac.invite(UAS_ADDR, call_spec(), pair.now)
    pair.pump()
    assert not pair.uas_events
    pair.advance(0.5)
    assert len(pair.starts("INVITE")) == 2
    _offered(pair).reject(pair.now, 603)
    pair.pump()
    assert _ended(pair.uac_events).outcome == CallOutcome.REJECTED


def test_far_end_bye_and_early_media() -> None:
    pair = make_pair()
    pair.uac.invite(UAS_ADDR, call_spec(), pair.now)
    pair.pump()
    far = _offered(pair)
    far.ring(pair.now, 183, _answer_sdp(far))
    pair.pump()
    assert any(isinstance(e, EarlyMediaStarted) for e in pair.uac_events)
    assert any(isinstance(e, RingingStarted) and e.sip_code == 183 for e in pair.uac_events)
    far.answer(pair.now, _answer_sdp(far))
    pair.pump()
    pair.advance(3.0)
    far.hangup(pair.now)
    pair.pump()
    ended = _ended(pair.uac_events)
    assert ended.hangup_by == HangupBy.THEM and ended.outcome == CallOutcome.ANSWERED


def test_reinvite_is_answered_with_our_sdp() -> None:
    pair = make_pair()
    call = pair.uac.invite(UAS_ADDR, call_spec(), pair.now)
    pair.pump()
    far = _offered(pair)
    far.answer(pair.now, _answer_sdp(far))
    pair.pump()
    reinvite, branch = far.dialog.request(pair.uas.endpoint, "INVITE", body=far.answer_sdp)
    got: list[int] = []
    pair.uas.start_client(
        reinvite,
        branch,
        far.dialog.peer,
        lambda r, t: got.append(r.status),
        lambda t: None,
        pair.now,
    )
    pair.pump()
    assert got[-1] == 200
    assert call.state.name == "ANSWERED"


def test_options_keepalive_answered() -> None:
    pair = make_pair()
    pair.uac.options(UAS_ADDR, f"sip:{UAS_ADDR[0]}:{UAS_ADDR[1]}", pair.now)
    pair.pump()
    assert any(isinstance(e, OptionsAnswered) and e.sip_code == 200 for e in pair.uac_events)


def test_tcp_pair_has_no_retransmissions() -> None:
    pair = make_pair(reliable=True)
    pair.uac.invite(UAS_ADDR, call_spec(), pair.now)
    pair.pump()
    _offered(pair).reject(pair.now, 404)
    pair.pump()
    pair.advance(40.0)
    assert _ended(pair.uac_events).outcome == CallOutcome.INVALID_NUMBER
    assert pair.uac.stats.get("retransmissions", 0) == 0
    assert pair.uac.next_deadline() is None


def test_reinvite_2xx_retransmitted_until_ack() -> None:
    pair = make_pair()
    call = pair.uac.invite(UAS_ADDR, call_spec(), pair.now)
    pair.pump()
    far = _offered(pair)
    far.answer(pair.now, _answer_sdp(far))
    pair.pump()
    reinvite, branch = far.dialog.request(pair.uas.endpoint, "INVITE", body=far.answer_sdp)
    pair.drop = lambda data, dest: data.startswith(b"SIP/2.0 200") and dest == UAS_ADDR
    pair.uas.start_client(
        reinvite, branch, far.dialog.peer, lambda r, t: None, lambda t: None, pair.now
    )
    pair.pump()
    pair.advance(1.6)  # our 2xx to the re-INVITE is resent at T1 and 2·T1 while lost
    resent = [d for d in pair.starts("SIP/2.0 200") if b"CSeq: 2 INVITE" in d]
    assert len(resent) == 3
    pair.drop = lambda data, dest: False
    pair.advance(2.5)
    assert call.state.name == "ANSWERED"
