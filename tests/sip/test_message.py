"""The SIP parser: real-world forms it must accept, and malformed input as values (Hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.sip.fields import parse_name_addr, parse_reason, parse_uri, parse_via, split_host_port
from dialer.sip.message import ParseError, Request, Response, StreamParser, parse_message

INVITE = (
    b"INVITE sip:+15551234567@[2001:db8::1]:5060;user=phone SIP/2.0\r\n"
    b"v: SIP/2.0/UDP [2001:db8::2]:5062;branch=z9hG4bKabc;rport\r\n"
    b"VIA: SIP/2.0/UDP proxy.example:5060;branch=z9hG4bKdef,"
    b" SIP/2.0/TCP 10.0.0.9;branch=z9hG4bKx\r\n"
    b"Max-Forwards: 70\r\n"
    b'f: "Dialer, Inc." <sip:dialer@example.com>;tag=1928301774\r\n'
    b"t: <sip:+15551234567@example.com>\r\n"
    b"i: a84b4c76e66710@pc33.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Subject: a folded\r\n"
    b"   subject line\r\n"
    b"m: <sip:dialer@[2001:db8::2]:5062>\r\n"
    b"c: application/sdp\r\n"
    b"l: 4\r\n"
    b"\r\n"
    b"v=0\r\nEXTRA"
)


def test_compact_forms_case_folding_multi_values_and_ipv6() -> None:
    message = parse_message(INVITE)
    assert isinstance(message, Request)
    assert message.method == "INVITE"
    assert message.body == b"v=0\r"  # Content-Length wins over trailing bytes on UDP
    vias = message.headers.get_all("Via")
    assert len(vias) == 3
    top = parse_via(vias[0])
    assert top is not None and (top.host, top.port, top.branch) == (
        "2001:db8::2",
        5062,
        "z9hG4bKabc",
    )
    assert message.headers.get("SUBJECT") == "a folded subject line"
    sender = parse_name_addr(message.headers.get("from") or "")
    assert sender is not None and sender.display == "Dialer, Inc." and sender.tag == "1928301774"
    uri = parse_uri(message.uri)
    assert uri is not None and (uri.user, uri.host, uri.port) == (
        "+15551234567",
        "2001:db8::1",
        5060,
    )
    assert uri.param("user") == "phone"


def test_response_with_reason_and_bare_lf() -> None:
    data = (
        b"SIP/2.0 480 Temporarily Unavailable\n"
        b"Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@b>;tag=1\nTo: <sip:c@d>;tag=2\n"
        b'Call-ID: x\nCSeq: 1 INVITE\nReason: Q.850;cause=19;text="No answer"\n\n'
    )
    message = parse_message(data)
    assert isinstance(message, Response) and message.status == 480
    reason = parse_reason(message.headers.get("reason"))
    assert reason is not None and reason.cause == 19 and reason.text == "No answer"


def test_round_trip_keeps_meaning() -> None:
    message = parse_message(INVITE)
    assert isinstance(message, Request)
    again = parse_message(message.to_bytes())
    assert isinstance(again, Request)
    assert again.headers.get_all("via") == message.headers.get_all("via")
    assert again.body == message.body


def test_malformed_inputs_are_values() -> None:
    cases = [
        b"",
        b"INVITE sip:x SIP/2.0\r\n\r\n",  # no mandatory headers
        b"SIP/2.0 99 Too Low\r\n\r\n",
        b"NOT A SIP MESSAGE",
        INVITE.replace(b"l: 4", b"l: 400"),
        INVITE.replace(b"l: 4", b"l: -1"),
        INVITE.replace(b"CSeq: 314159 INVITE", b"CSeq: 314159 BYE"),
        INVITE.replace(b"Max-Forwards: 70", b"Max Forwards 70"),
        b"INVITE sip:x SIP/2.0\r\nVia: \xff\xfe\r\n\r\n",
    ]
    for data in cases:
        assert isinstance(parse_message(data), ParseError), data


def test_host_port_forms() -> None:
    assert split_host_port("[::1]:5060") == ("::1", 5060)
    assert split_host_port("[::1]") == ("::1", None)
    assert split_host_port("example.com") == ("example.com", None)
    assert split_host_port("h:99999") is None
    assert split_host_port("[::1") is None


def test_stream_parser_frames_and_survives_garbage() -> None:
    message = parse_message(INVITE)
    assert isinstance(message, Request)
    wire = message.to_bytes()
    framer = StreamParser()
    out = framer.feed(b"\r\n\r\n" + wire[:10]) + framer.feed(wire[10:] + wire)
    assert [type(m) for m in out] == [Request, Request]
    broken = StreamParser()
    assert isinstance(broken.feed(b"GARBAGE\r\n\r\n")[0], ParseError) and broken.broken


_LINES = st.sampled_from(
    [
        "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1",
        "v: SIP/2.0/TCP [::1];branch=z9hG4bK2",
        "From: <sip:a@b>;tag=x",
        "f: sip:a@b;tag=y",
        "To: <sip:c@d>",
        "t: <sip:c@d>;tag=z",
        "Call-ID: abc",
        "i: def",
        "CSeq: 1 INVITE",
        "CSeq: x",
        "Content-Length: 3",
        "l: 0",
        "Contact: <sip:x@[::1]:5>, <sip:y@h>",
        " folded continuation",
        "Reason: Q.850;cause=19",
        "no colon here",
        "",
    ]
)
_STARTS = st.sampled_from(
    [
        "INVITE sip:a@b SIP/2.0",
        "SIP/2.0 180 Ringing",
        "BYE sip:x SIP/2.0",
        "SIP/2.0 999 X",
        "GET / HTTP/1.1",
    ]
)


@settings(max_examples=300, deadline=None)
@given(start=_STARTS, lines=st.lists(_LINES, max_size=12), body=st.binary(max_size=20))
def test_fuzz_structured_messages_never_raise(start: str, lines: list[str], body: bytes) -> None:
    data = ("\r\n".join([start, *lines]) + "\r\n\r\n").encode() + body
    result = parse_message(data)
    assert isinstance(result, Request | Response | ParseError)
    if not isinstance(result, ParseError):
        for value in result.headers.get_all("via") + result.headers.get_all("contact"):
            parse_via(value)
            parse_name_addr(value)
        assert isinstance(parse_message(result.to_bytes()), Request | Response)
    StreamParser().feed(data)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_fuzz_random_bytes_never_raise(data: bytes) -> None:
    assert isinstance(parse_message(data), Request | Response | ParseError)
    StreamParser().feed(data)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=80))
def test_fuzz_field_readers_never_raise(text: str) -> None:
    parse_via(text)
    parse_name_addr(text)
    parse_uri(text)
    parse_reason(text)
    split_host_port(text)
