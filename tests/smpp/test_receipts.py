"""Receipt parsing (text and TLV), correlation across bases and orders, status aggregation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.vocabulary import SmsStatus
from dialer.smpp.pdu import CommandId, SmPdu, Tag, Tlv
from dialer.smpp.receipts import (
    SEVERITY,
    Correlator,
    Receipt,
    aggregate,
    is_receipt,
    parse_receipt,
)

TEXT = (
    b"id:0123456789 sub:001 dlvrd:001 submit date:2611221200 done date:2611221201 "
    b"stat:DELIVRD err:000 text:Hello"
)


def _deliver(body: bytes = b"", esm_class: int = 0x04, tlvs: tuple[Tlv, ...] = ()) -> SmPdu:
    return SmPdu(
        CommandId.DELIVER_SM, 1, "DIALER", body, "79001234567", esm_class=esm_class, tlvs=tlvs
    )


def test_text_receipt() -> None:
    pdu = _deliver(TEXT)
    assert is_receipt(pdu)
    assert parse_receipt(pdu) == Receipt("0123456789", SmsStatus.DELIVERED)


@pytest.mark.parametrize(
    ("stat", "status"),
    [
        (b"UNDELIV", SmsStatus.UNDELIVERABLE),
        (b"EXPIRED", SmsStatus.EXPIRED),
        (b"REJECTD", SmsStatus.REJECTED),
        (b"DELETED", SmsStatus.UNDELIVERABLE),
        (b"ENROUTE", SmsStatus.ACCEPTED),
        (b"undeliv", SmsStatus.UNDELIVERABLE),
    ],
)
def test_text_states(stat: bytes, status: SmsStatus) -> None:
    receipt = parse_receipt(_deliver(b"id:7b stat:" + stat + b" err:042"))
    assert receipt == Receipt("7b", status, "042")


def test_tlv_receipt_wins_over_text() -> None:
    tlvs = (Tlv(Tag.RECEIPTED_MESSAGE_ID, b"ABC\x00"), Tlv(Tag.MESSAGE_STATE, b"\x05"))
    assert parse_receipt(_deliver(TEXT, tlvs=tlvs)) == Receipt("ABC", SmsStatus.UNDELIVERABLE)
    assert is_receipt(_deliver(b"", esm_class=0, tlvs=tlvs))


def test_not_a_receipt() -> None:
    assert not is_receipt(_deliver(b"hello", esm_class=0))
    assert parse_receipt(_deliver(b"no receipt here")) is None


def test_hex_response_decimal_receipt_and_back() -> None:
    corr: Correlator[str] = Correlator()
    corr.accepted("1A2B3C", "hex-part")
    corr.accepted("0000012345", "dec-part")
    assert corr.match(Receipt(str(0x1A2B3C), SmsStatus.DELIVERED)) == "hex-part"
    assert corr.match(Receipt("1a2b3c", SmsStatus.DELIVERED)) == "hex-part"
    assert corr.match(Receipt(f"{12345:x}", SmsStatus.DELIVERED)) == "dec-part"
    assert corr.match(Receipt("12345", SmsStatus.DELIVERED)) == "dec-part"
    assert corr.match(Receipt("999", SmsStatus.DELIVERED)) is None


@settings(max_examples=200)
@given(st.integers(1, 2**40), st.booleans(), st.booleans(), st.integers(0, 4))
def test_any_base_pairing_correlates(
    value: int, hex_resp: bool, hex_receipt: bool, pad: int
) -> None:
    corr: Correlator[str] = Correlator()
    resp_id = f"{value:X}" if hex_resp else str(value)
    receipt_id = "0" * pad + (f"{value:x}" if hex_receipt else str(value))
    corr.accepted(resp_id, "part")
    assert corr.match(Receipt(receipt_id, SmsStatus.DELIVERED)) == "part"


def test_receipt_before_response_is_parked_then_applied() -> None:
    corr: Correlator[str] = Correlator()
    early = Receipt("305419896", SmsStatus.DELIVERED)  # decimal of 0x12345678
    assert corr.match(early) is None
    corr.park(early, now=10.0)
    assert corr.accepted("12345678", "part") == early
    assert corr.expire_early(now=10_000.0, max_age_s=1.0) == []


def test_unclaimed_early_receipts_expire() -> None:
    corr: Correlator[str] = Correlator()
    corr.park(Receipt("FF", SmsStatus.EXPIRED), now=0.0)
    assert corr.expire_early(now=5.0, max_age_s=10.0) == []
    assert corr.expire_early(now=11.0, max_age_s=10.0) == [Receipt("FF", SmsStatus.EXPIRED)]


def test_forget_stops_matching() -> None:
    corr: Correlator[str] = Correlator()
    corr.accepted("AB", "part")
    corr.forget("AB")
    assert corr.match(Receipt("AB", SmsStatus.DELIVERED)) is None and len(corr) == 0


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ([SmsStatus.DELIVERED] * 3, SmsStatus.DELIVERED),
        ([SmsStatus.DELIVERED, SmsStatus.ACCEPTED], SmsStatus.ACCEPTED),
        ([SmsStatus.DELIVERED, SmsStatus.EXPIRED], SmsStatus.EXPIRED),
        (
            [SmsStatus.UNDELIVERABLE, SmsStatus.EXPIRED, SmsStatus.DELIVERED],
            SmsStatus.UNDELIVERABLE,
        ),
        ([SmsStatus.ACCEPTED, SmsStatus.REJECTED], SmsStatus.REJECTED),
        ([SmsStatus.SUBMITTED, SmsStatus.ACCEPTED], SmsStatus.SUBMITTED),
    ],
)
def test_aggregate(parts: list[SmsStatus], expected: SmsStatus) -> None:
    assert aggregate(parts) is expected


@given(st.lists(st.sampled_from(SEVERITY), min_size=1, max_size=6))
def test_delivered_only_when_every_part_is(parts: list[SmsStatus]) -> None:
    status = aggregate(parts)
    assert (status is SmsStatus.DELIVERED) == all(p is SmsStatus.DELIVERED for p in parts)
    assert status in parts
