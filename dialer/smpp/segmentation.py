"""Choosing GSM-7 or UCS-2 and splitting text into SMPP parts (UDH 8/16-bit reference or SAR).

Limits count septets (GSM-7, an extension character is two) and UTF-16 code units (UCS-2, an
astral character is a surrogate pair of two), never characters; a part never ends between an escape
and its code or between the two halves of a surrogate pair.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum

from config.vocabulary import SmsEncoding
from dialer.smpp import gsm7
from dialer.smpp.pdu import SmPdu, Tag, Tlv

DATA_CODING = {SmsEncoding.GSM7: 0x00, SmsEncoding.UCS2: 0x08}
SINGLE_LIMIT = {SmsEncoding.GSM7: 160, SmsEncoding.UCS2: 70}
ESM_UDHI = 0x40
IEI_CONCAT_8 = 0x00
IEI_CONCAT_16 = 0x08
MAX_PARTS = 255


class Concatenation(StrEnum):
    """How a long message's parts are tied together."""

    UDH8 = "udh8"
    UDH16 = "udh16"
    SAR = "sar"


# Units per part of a multi-part message. SAR's reference is 16-bit, so the SMSC may build a
# 7-octet UDH from it: we keep the 16-bit limits to be safe.
PART_LIMIT = {
    Concatenation.UDH8: {SmsEncoding.GSM7: 153, SmsEncoding.UCS2: 67},
    Concatenation.UDH16: {SmsEncoding.GSM7: 152, SmsEncoding.UCS2: 66},
    Concatenation.SAR: {SmsEncoding.GSM7: 152, SmsEncoding.UCS2: 66},
}
REFERENCE_MODULUS = {Concatenation.UDH8: 256, Concatenation.UDH16: 65536, Concatenation.SAR: 65536}


@dataclass(frozen=True, slots=True)
class Plan:
    """The encoding and the text of each part, before a reference is chosen."""

    encoding: SmsEncoding
    chunks: tuple[str, ...]

    @property
    def is_multipart(self) -> bool:
        return len(self.chunks) > 1


@dataclass(frozen=True, slots=True)
class Part:
    """One part ready for submit_sm: short_message (UDH included), esm_class bits and TLVs."""

    index: int
    total: int
    text: str
    short_message: bytes
    esm_class: int
    tlvs: tuple[Tlv, ...]


def choose_encoding(text: str) -> SmsEncoding:
    return SmsEncoding.GSM7 if gsm7.fits(text) else SmsEncoding.UCS2


def encode_text(text: str, encoding: SmsEncoding) -> bytes:
    if encoding is SmsEncoding.GSM7:
        return gsm7.encode(text)
    return text.encode("utf-16-be", "surrogatepass")


def decode_text(payload: bytes, data_coding: int) -> str:
    """Text of a payload in the codings SMSCs use: 0 GSM-7, 8 UCS-2/UTF-16, 1 ASCII, 3 Latin-1."""
    if data_coding == 0x08:
        return payload.decode("utf-16-be", "surrogatepass")
    if data_coding == 0x00:
        return gsm7.decode(payload)
    return payload.decode("latin-1")


def units(text: str, encoding: SmsEncoding) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2) that `text` takes."""
    if encoding is SmsEncoding.GSM7:
        return gsm7.septet_count(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _cost(ch: str, encoding: SmsEncoding) -> int:
    if encoding is SmsEncoding.GSM7:
        septets = gsm7.septets_of(ch)
        assert septets is not None
        return len(septets)
    return 2 if ord(ch) > 0xFFFF else 1


def plan(text: str, concatenation: Concatenation = Concatenation.UDH8) -> Plan:
    """Encoding and part texts for `text`; characters are atomic, so pairs are never split."""
    encoding = choose_encoding(text)
    if units(text, encoding) <= SINGLE_LIMIT[encoding]:
        return Plan(encoding, (text,))
    limit = PART_LIMIT[concatenation][encoding]
    chunks: list[str] = []
    start = used = 0
    for pos, ch in enumerate(text):
        cost = _cost(ch, encoding)
        if used + cost > limit:
            chunks.append(text[start:pos])
            start, used = pos, 0
        used += cost
    chunks.append(text[start:])
    if len(chunks) > MAX_PARTS:
        raise ValueError(f"text needs {len(chunks)} parts; at most {MAX_PARTS}")
    return Plan(encoding, tuple(chunks))


def _udh(concatenation: Concatenation, reference: int, total: int, index: int) -> bytes:
    if concatenation is Concatenation.UDH8:
        return bytes((5, IEI_CONCAT_8, 3, reference & 0xFF, total, index))
    return (
        bytes((6, IEI_CONCAT_16, 4)) + struct.pack(">H", reference & 0xFFFF) + bytes((total, index))
    )


def _sar(reference: int, total: int, index: int) -> tuple[Tlv, ...]:
    return (
        Tlv(Tag.SAR_MSG_REF_NUM, struct.pack(">H", reference & 0xFFFF)),
        Tlv(Tag.SAR_TOTAL_SEGMENTS, bytes((total,))),
        Tlv(Tag.SAR_SEGMENT_SEQNUM, bytes((index,))),
    )


def build_parts(
    message: Plan, concatenation: Concatenation = Concatenation.UDH8, reference: int = 0
) -> tuple[Part, ...]:
    """The parts of a planned message; `reference` matters only when it has several parts."""
    total = len(message.chunks)
    parts: list[Part] = []
    for index, chunk in enumerate(message.chunks, start=1):
        payload = encode_text(chunk, message.encoding)
        if total == 1:
            parts.append(Part(1, 1, chunk, payload, 0, ()))
        elif concatenation is Concatenation.SAR:
            parts.append(Part(index, total, chunk, payload, 0, _sar(reference, total, index)))
        else:
            udh = _udh(concatenation, reference, total, index)
            parts.append(Part(index, total, chunk, udh + payload, ESM_UDHI, ()))
    return tuple(parts)


@dataclass(frozen=True, slots=True)
class Concatenated:
    """Where a received part belongs: reference, total and 1-based index (None when single)."""

    reference: int
    total: int
    index: int


def split_udh(pdu: SmPdu) -> tuple[Concatenated | None, bytes]:
    """The concatenation info of a submit_sm/deliver_sm (UDH or SAR) and its bare payload."""
    payload = pdu.short_message or (pdu.tlv(Tag.MESSAGE_PAYLOAD) or b"")
    info: Concatenated | None = None
    if pdu.esm_class & ESM_UDHI and payload:
        udh_len = payload[0]
        info = _parse_udh(payload[1 : 1 + udh_len])
        payload = payload[1 + udh_len :]
    ref, total, seq = (pdu.tlv(t) for t in (Tag.SAR_MSG_REF_NUM, Tag.SAR_TOTAL_SEGMENTS,
                                            Tag.SAR_SEGMENT_SEQNUM))  # fmt: skip
    if info is None and ref and total and seq:
        info = Concatenated(int.from_bytes(ref, "big"), total[0], seq[0])
    return info, payload


def _parse_udh(udh: bytes) -> Concatenated | None:
    pos = 0
    while pos + 2 <= len(udh):
        iei, length = udh[pos], udh[pos + 1]
        value = udh[pos + 2 : pos + 2 + length]
        if iei == IEI_CONCAT_8 and len(value) == 3:
            return Concatenated(value[0], value[1], value[2])
        if iei == IEI_CONCAT_16 and len(value) == 4:
            return Concatenated(int.from_bytes(value[:2], "big"), value[2], value[3])
        pos += 2 + length
    return None


def reassemble(pdus: list[SmPdu]) -> str:
    """The text of a message from all its parts (any order); payload bytes join before decoding."""
    ordered = sorted(pdus, key=lambda p: (split_udh(p)[0] or Concatenated(0, 1, 1)).index)
    payload = b"".join(split_udh(p)[1] for p in ordered)
    return decode_text(payload, ordered[0].data_coding if ordered else 0)


class ReferenceAllocator:
    """Concatenation references cycling per destination, so consecutive long messages to one
    number never share one (the last `max_destinations` destinations are remembered)."""

    def __init__(self, start: int = 0, max_destinations: int = 100_000) -> None:
        self._start = start
        self._next: OrderedDict[str, int] = OrderedDict()
        self._max = max_destinations

    def allocate(self, destination: str, modulus: int) -> int:
        value = self._next.pop(destination, self._start)
        self._next[destination] = value + 1
        if len(self._next) > self._max:
            self._next.popitem(last=False)
        return value % modulus
