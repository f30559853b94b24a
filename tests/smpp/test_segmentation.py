"""Encoding choice and segmentation: limits in septets and UTF-16 units, pairs never split."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.vocabulary import SmsEncoding
from dialer.smpp import gsm7
from dialer.smpp.pdu import CommandId, SmPdu, Tag
from dialer.smpp.segmentation import (
    DATA_CODING,
    PART_LIMIT,
    SINGLE_LIMIT,
    Concatenation,
    ReferenceAllocator,
    build_parts,
    decode_text,
    plan,
    reassemble,
    split_udh,
    units,
)

ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=700)
GSM_HEAVY = st.text(alphabet=st.sampled_from("abc €{}[]~|^\\§@¤Ä"), max_size=700)


def _pdus(text: str, concatenation: Concatenation, reference: int = 7) -> list[SmPdu]:
    message = plan(text, concatenation)
    return [
        SmPdu(
            CommandId.SUBMIT_SM,
            i,
            "79001234567",
            part.short_message,
            esm_class=part.esm_class,
            data_coding=DATA_CODING[message.encoding],
            tlvs=part.tlvs,
        )
        for i, part in enumerate(build_parts(message, concatenation, reference), start=1)
    ]


@pytest.mark.parametrize(
    ("text", "encoding", "sizes"),
    [
        ("a" * 160, SmsEncoding.GSM7, [160]),
        ("a" * 161, SmsEncoding.GSM7, [153, 8]),
        ("€" * 80, SmsEncoding.GSM7, [80]),
        ("€" * 81, SmsEncoding.GSM7, [76, 5]),
        ("я" * 70, SmsEncoding.UCS2, [70]),
        ("я" * 71, SmsEncoding.UCS2, [67, 4]),
        ("a`", SmsEncoding.UCS2, [2]),
        ("😀" * 35, SmsEncoding.UCS2, [35]),
        ("😀" * 36, SmsEncoding.UCS2, [33, 3]),
    ],
)
def test_limits_count_septets_and_utf16_units(
    text: str, encoding: SmsEncoding, sizes: list[int]
) -> None:
    message = plan(text)
    assert message.encoding is encoding
    assert [len(chunk) for chunk in message.chunks] == sizes


def test_sixteen_bit_reference_and_sar_leave_one_unit_less() -> None:
    for concatenation in (Concatenation.UDH16, Concatenation.SAR):
        assert [len(c) for c in plan("a" * 161, concatenation).chunks] == [152, 9]
        assert [len(c) for c in plan("я" * 71, concatenation).chunks] == [66, 5]


def test_udh8_header_and_esm_class() -> None:
    parts = build_parts(plan("a" * 200), Concatenation.UDH8, reference=0x1AB)
    assert parts[0].short_message[:6] == bytes((5, 0, 3, 0xAB, 2, 1))
    assert parts[1].short_message[:6] == bytes((5, 0, 3, 0xAB, 2, 2))
    assert all(p.esm_class == 0x40 and len(p.short_message) <= 159 for p in parts)


def test_udh16_and_sar_carry_a_16_bit_reference() -> None:
    udh16 = build_parts(plan("a" * 200, Concatenation.UDH16), Concatenation.UDH16, reference=0x1234)
    assert udh16[1].short_message[:7] == bytes((6, 8, 4, 0x12, 0x34, 2, 2))
    sar = build_parts(plan("a" * 200, Concatenation.SAR), Concatenation.SAR, reference=0x1234)
    assert sar[0].esm_class == 0 and sar[0].short_message == gsm7.encode("a" * 152)
    tags = {t.tag: t.value for t in sar[1].tlvs}
    assert tags[Tag.SAR_MSG_REF_NUM] == b"\x12\x34"
    assert tags[Tag.SAR_TOTAL_SEGMENTS] == b"\x02" and tags[Tag.SAR_SEGMENT_SEQNUM] == b"\x02"


def test_single_part_has_no_header() -> None:
    (part,) = build_parts(plan("hello"), Concatenation.UDH8, reference=3)
    assert part.esm_class == 0 and part.tlvs == () and part.short_message == b"hello"


def test_references_cycle_per_destination() -> None:
    refs = ReferenceAllocator()
    first = [refs.allocate("7900", 256) for _ in range(256)]
    assert len(set(first)) == 256
    assert refs.allocate("7911", 256) == 0
    assert refs.allocate("7900", 256) == first[0]


def _check_parts(text: str, concatenation: Concatenation) -> None:
    message = plan(text, concatenation)
    parts = build_parts(message, concatenation, reference=42)
    limit = SINGLE_LIMIT[message.encoding]
    if len(parts) > 1:
        limit = PART_LIMIT[concatenation][message.encoding]
    data_coding = DATA_CODING[message.encoding]
    for part in parts:
        assert units(part.text, message.encoding) <= limit
        pdu = SmPdu(
            CommandId.SUBMIT_SM,
            1,
            "1",
            part.short_message,
            esm_class=part.esm_class,
            data_coding=data_coding,
            tlvs=part.tlvs,
        )
        # each part decodes on its own: no escape or surrogate pair is cut
        assert decode_text(split_udh(pdu)[1], data_coding) == part.text
        assert len(part.short_message) <= 254
    assert "".join(p.text for p in parts) == text


@settings(max_examples=150, deadline=None)
@given(ANY_TEXT, st.sampled_from(list(Concatenation)))
def test_any_unicode_text_reassembles_to_itself(text: str, concatenation: Concatenation) -> None:
    _check_parts(text, concatenation)
    pdus = _pdus(text, concatenation)
    assert reassemble(list(reversed(pdus))) == text


@settings(max_examples=100, deadline=None)
@given(GSM_HEAVY, st.sampled_from(list(Concatenation)))
def test_gsm_texts_with_escapes_reassemble(text: str, concatenation: Concatenation) -> None:
    assert plan(text).encoding is SmsEncoding.GSM7
    _check_parts(text, concatenation)
    assert reassemble(_pdus(text, concatenation)) == text


@settings(max_examples=100)
@given(ANY_TEXT)
def test_gsm7_is_chosen_exactly_when_every_character_fits(text: str) -> None:
    expected = SmsEncoding.GSM7 if all(gsm7.septets_of(c) for c in text) else SmsEncoding.UCS2
    assert plan(text).encoding is expected
