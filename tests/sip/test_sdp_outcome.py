"""SDP offer/answer for PCMU/PCMA/telephone-event, and the outcome table of the glossary."""

from __future__ import annotations

import pytest

from config.vocabulary import CallOutcome
from dialer.sip.outcome import outcome_for
from dialer.sip.sdp import answer_matches_offer, build_answer, build_offer, parse_sdp


def test_offer_answer_picks_first_shared_codec_and_keeps_events() -> None:
    offer = parse_sdp(build_offer("10.0.0.1", 40000, 1))
    assert offer is not None and offer.payload_types == (0, 8, 101)
    assert offer.event_payload_type == 101
    body = build_answer(offer, "10.0.0.2", 30000, 9)
    assert body is not None
    answer = parse_sdp(body)
    assert answer is not None and answer.audio_codec == "PCMU" and answer.event_payload_type == 101
    assert answer_matches_offer(offer, answer)


def test_answer_follows_offerer_preference_and_direction() -> None:
    text = (
        "v=0\r\no=x 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\n"
        "m=audio 5004 RTP/AVP 18 8 0 96\r\na=rtpmap:96 telephone-event/8000\r\na=sendonly\r\n"
    )
    offer = parse_sdp(text.encode())
    assert offer is not None and offer.address == "::1"
    answer = parse_sdp(build_answer(offer, "::2", 4000, 1) or b"")
    assert answer is not None and answer.audio_codec == "PCMA"
    assert answer.event_payload_type == 96 and answer.direction == "recvonly"


def test_no_shared_codec_gives_no_answer() -> None:
    text = "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 5004 RTP/AVP 18\r\n"
    offer = parse_sdp(text.encode())
    assert offer is not None and build_answer(offer, "1.1.1.1", 1, 1) is None
    assert parse_sdp(b"\xff\xfe") is None and parse_sdp(b"v=0\r\n") is None


@pytest.mark.parametrize(
    ("code", "cause", "outcome"),
    [
        (200, None, CallOutcome.ANSWERED),
        (486, None, CallOutcome.BUSY),
        (600, None, CallOutcome.BUSY),
        (408, 19, CallOutcome.NO_ANSWER),
        (480, 18, CallOutcome.NO_ANSWER),
        (480, None, CallOutcome.UNAVAILABLE),
        (480, 17, CallOutcome.UNAVAILABLE),
        (503, None, CallOutcome.UNAVAILABLE),
        (408, None, CallOutcome.FAILED),
        (403, None, CallOutcome.REJECTED),
        (603, None, CallOutcome.REJECTED),
        (404, None, CallOutcome.INVALID_NUMBER),
        (484, None, CallOutcome.INVALID_NUMBER),
        (410, None, CallOutcome.INVALID_NUMBER),
        (500, None, CallOutcome.FAILED),
        (488, None, CallOutcome.FAILED),
    ],
)
def test_outcome_table(code: int, cause: int | None, outcome: CallOutcome) -> None:
    assert outcome_for(code, cause) == outcome
