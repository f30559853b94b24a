"""Our PDU codec: round trips, and every malformed shape becomes a MalformedPdu value."""

from __future__ import annotations

import dataclasses
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.smpp import pdu as p
from dialer.smpp.pdu import CommandId, Status

cstr = st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=255), max_size=15)
octet = st.integers(0, 255)
tlvs = st.lists(st.builds(p.Tlv, st.integers(0, 0xFFFF), st.binary(max_size=20)), max_size=3)


@st.composite
def sm_pdus(draw: st.DrawFn) -> p.SmPdu:
    return p.SmPdu(
        draw(st.sampled_from([CommandId.SUBMIT_SM, CommandId.DELIVER_SM])),
        draw(st.integers(1, p.MAX_SEQUENCE)),
        draw(cstr),
        draw(st.binary(max_size=254)),
        draw(cstr),
        draw(octet),
        draw(octet),
        draw(octet),
        draw(octet),
        draw(cstr.map(lambda s: s[:5])),
        draw(octet),
        draw(octet),
        draw(octet),
        draw(cstr),
        draw(cstr),
        draw(octet),
        draw(octet),
        draw(octet),
        draw(octet),
        tuple(draw(tlvs)),
    )


@settings(max_examples=200)
@given(sm_pdus())
def test_submit_and_deliver_round_trip(pdu: p.SmPdu) -> None:
    assert p.decode(p.encode(pdu)) == pdu


@settings(max_examples=200)
@given(sm_pdus(), st.data())
def test_every_truncation_is_malformed_never_silent(pdu: p.SmPdu, data: st.DataObject) -> None:
    frame = p.encode(pdu)
    cut = data.draw(st.integers(p.HEADER_LEN, len(frame) - 1))
    short = struct.pack(">I", cut) + frame[4:cut]
    decoded = p.decode(short)
    # a cut exactly between two TLVs is a valid PDU with fewer TLVs; any other cut is malformed
    if not isinstance(decoded, p.MalformedPdu):
        assert isinstance(decoded, p.SmPdu) and len(decoded.tlvs) < len(pdu.tlvs)
        assert decoded == dataclasses.replace(pdu, tlvs=pdu.tlvs[: len(decoded.tlvs)])


@pytest.mark.parametrize(
    "pdu",
    [
        p.BindPdu(CommandId.BIND_TRANSCEIVER, 1, "dialer", "secret", "VMS", 0x34, 1, 1, "^79"),
        p.BindRespPdu(
            CommandId.BIND_TRANSCEIVER_RESP,
            1,
            0,
            "smsc",
            (p.Tlv(p.Tag.SC_INTERFACE_VERSION, b"\x34"),),
        ),
        p.SmRespPdu(CommandId.SUBMIT_SM_RESP, 9, 0, "1A2B3C"),
        p.SmRespPdu(CommandId.DELIVER_SM_RESP, 9, 0, ""),
        p.EmptyPdu(CommandId.ENQUIRE_LINK, p.MAX_SEQUENCE),
        p.EmptyPdu(CommandId.GENERIC_NACK, 3, Status.ESME_RINVCMDID),
        p.EmptyPdu(CommandId.UNBIND_RESP, 4),
    ],
)
def test_other_pdus_round_trip(pdu: p.Pdu) -> None:
    assert p.decode(p.encode(pdu)) == pdu


def test_error_response_without_body_decodes() -> None:
    frame = p.HEADER.pack(16, CommandId.SUBMIT_SM_RESP, Status.ESME_RTHROTTLED, 5)
    assert p.decode(frame) == p.SmRespPdu(CommandId.SUBMIT_SM_RESP, 5, Status.ESME_RTHROTTLED)


def test_vendor_tlvs_are_kept_not_refused() -> None:
    pdu = p.SmPdu(CommandId.DELIVER_SM, 2, "1", b"x", tlvs=(p.Tlv(0x1403, b"vendor"),))
    decoded = p.decode(p.encode(pdu))
    assert isinstance(decoded, p.SmPdu) and decoded.tlv(0x1403) == b"vendor"


@pytest.mark.parametrize(
    ("frame", "status"),
    [
        (p.HEADER.pack(16, 0x99, 0, 7), Status.ESME_RINVCMDID),
        (p.HEADER.pack(17, CommandId.ENQUIRE_LINK, 0, 7), Status.ESME_RINVCMDLEN),
        (p.HEADER.pack(17, CommandId.ENQUIRE_LINK, 0, 7) + b"x", Status.ESME_RINVCMDLEN),
        (
            p.HEADER.pack(16 + 20, CommandId.SUBMIT_SM_RESP, 0, 7) + b"a" * 20,
            Status.ESME_RINVCMDLEN,
        ),
        (b"\x00\x00", Status.ESME_RINVCMDLEN),
    ],
)
def test_malformed_frames(frame: bytes, status: Status) -> None:
    bad = p.decode(frame)
    assert isinstance(bad, p.MalformedPdu) and bad.status == status


def test_tlv_overrunning_the_pdu_is_malformed() -> None:
    frame = p.encode(p.SmPdu(CommandId.DELIVER_SM, 2, "1", b"x"))
    frame += struct.pack(">HH", 0x0427, 5) + b"\x01"
    frame = struct.pack(">I", len(frame)) + frame[4:]
    bad = p.decode(frame)
    assert isinstance(bad, p.MalformedPdu) and bad.status == Status.ESME_RINVPARLEN


def test_encode_refuses_what_smpp_cannot_carry() -> None:
    with pytest.raises(ValueError, match="sequence"):
        p.encode(p.EmptyPdu(CommandId.ENQUIRE_LINK, 0))
    with pytest.raises(ValueError, match="254"):
        p.encode(p.SmPdu(CommandId.SUBMIT_SM, 1, "1", b"x" * 255))
    with pytest.raises(ValueError, match="C-string"):
        p.encode(p.SmPdu(CommandId.SUBMIT_SM, 1, "1" * 21))


@settings(max_examples=100)
@given(st.lists(sm_pdus(), min_size=1, max_size=5), st.lists(st.integers(1, 64), max_size=30))
def test_frame_buffer_cuts_any_chunking(pdus: list[p.SmPdu], cuts: list[int]) -> None:
    stream = b"".join(p.encode(x) for x in pdus)
    buffer, frames, pos = p.FrameBuffer(), [], 0
    for size in [*cuts, len(stream)]:
        frames += buffer.feed(stream[pos : pos + size])
        pos += size
    assert [p.decode(f) for f in frames] == pdus


def test_frame_buffer_desynchronises_on_absurd_length() -> None:
    buffer = p.FrameBuffer()
    assert buffer.feed(p.HEADER.pack(8, 4, 0, 1)) == []
    assert buffer.desynchronised
    assert p.FrameBuffer().feed(p.HEADER.pack(p.MAX_PDU_LEN + 1, 4, 0, 1)) == []
