"""Our compact SMPP 3.4 PDU codec for the PDUs we use: frozen dataclasses, `encode`, `decode`.

Not smpplib: decoding validates every length (header, C-strings against their maximum, sm_length,
each TLV) and returns a `MalformedPdu` value instead of parsing a truncated body silently; unknown
(vendor) TLVs are kept as raw `Tlv`s; sequence numbers are always explicit.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

HEADER = struct.Struct(">IIII")
HEADER_LEN = HEADER.size
MAX_PDU_LEN = 65536
MAX_SHORT_MESSAGE = 254
MAX_SEQUENCE = 0x7FFFFFFF
INTERFACE_VERSION = 0x34


class CommandId(IntEnum):
    GENERIC_NACK = 0x80000000
    BIND_RECEIVER = 0x00000001
    BIND_RECEIVER_RESP = 0x80000001
    BIND_TRANSMITTER = 0x00000002
    BIND_TRANSMITTER_RESP = 0x80000002
    SUBMIT_SM = 0x00000004
    SUBMIT_SM_RESP = 0x80000004
    DELIVER_SM = 0x00000005
    DELIVER_SM_RESP = 0x80000005
    UNBIND = 0x00000006
    UNBIND_RESP = 0x80000006
    BIND_TRANSCEIVER = 0x00000009
    BIND_TRANSCEIVER_RESP = 0x80000009
    ENQUIRE_LINK = 0x00000015
    ENQUIRE_LINK_RESP = 0x80000015


RESPONSE_BIT = 0x80000000
BIND_COMMANDS = frozenset(
    {CommandId.BIND_RECEIVER, CommandId.BIND_TRANSMITTER, CommandId.BIND_TRANSCEIVER}
)
_KNOWN_IDS = frozenset(int(c) for c in CommandId)


class Status(IntEnum):
    """command_status values we produce or react to (the wire may carry any other integer)."""

    ESME_ROK = 0x00
    ESME_RINVMSGLEN = 0x01
    ESME_RINVCMDLEN = 0x02
    ESME_RINVCMDID = 0x03
    ESME_RINVBNDSTS = 0x04
    ESME_RALYBND = 0x05
    ESME_RSYSERR = 0x08
    ESME_RINVDSTADR = 0x0B
    ESME_RBINDFAIL = 0x0D
    ESME_RINVPASWD = 0x0E
    ESME_RINVSYSID = 0x0F
    ESME_RMSGQFUL = 0x14
    ESME_RSUBMITFAIL = 0x45
    ESME_RTHROTTLED = 0x58
    ESME_RINVOPTPARSTREAM = 0xC0
    ESME_RINVPARLEN = 0xC2


THROTTLING_STATUSES = frozenset({Status.ESME_RTHROTTLED, Status.ESME_RMSGQFUL})


def status_name(status: int) -> str:
    """The symbolic name of a command_status, or its hex value when we do not know it."""
    try:
        return Status(status).name
    except ValueError:
        return f"0x{status:08X}"


class Tag(IntEnum):
    """TLV tags we read or write; any other tag is carried through untouched."""

    USER_MESSAGE_REFERENCE = 0x0204
    SAR_MSG_REF_NUM = 0x020C
    SAR_TOTAL_SEGMENTS = 0x020E
    SAR_SEGMENT_SEQNUM = 0x020F
    SC_INTERFACE_VERSION = 0x0210
    RECEIPTED_MESSAGE_ID = 0x001E
    NETWORK_ERROR_CODE = 0x0423
    MESSAGE_PAYLOAD = 0x0424
    MESSAGE_STATE = 0x0427


@dataclass(frozen=True, slots=True)
class Tlv:
    tag: int
    value: bytes


@dataclass(frozen=True, slots=True)
class BindPdu:
    command_id: CommandId
    sequence: int
    system_id: str
    password: str
    system_type: str = ""
    interface_version: int = INTERFACE_VERSION
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""
    status: int = 0


@dataclass(frozen=True, slots=True)
class BindRespPdu:
    command_id: CommandId
    sequence: int
    status: int
    system_id: str = ""
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, slots=True)
class SmPdu:
    """submit_sm or deliver_sm (their bodies are the same)."""

    command_id: CommandId
    sequence: int
    destination_addr: str
    short_message: bytes = b""
    source_addr: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    dest_addr_ton: int = 1
    dest_addr_npi: int = 1
    service_type: str = ""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    tlvs: tuple[Tlv, ...] = ()
    status: int = 0

    def tlv(self, tag: int) -> bytes | None:
        for item in self.tlvs:
            if item.tag == tag:
                return item.value
        return None


@dataclass(frozen=True, slots=True)
class SmRespPdu:
    """submit_sm_resp or deliver_sm_resp."""

    command_id: CommandId
    sequence: int
    status: int = 0
    message_id: str = ""


@dataclass(frozen=True, slots=True)
class EmptyPdu:
    """A PDU with a header only: enquire_link(_resp), unbind(_resp), generic_nack."""

    command_id: CommandId
    sequence: int
    status: int = 0


@dataclass(frozen=True, slots=True)
class MalformedPdu:
    """A frame we could not decode, with the status a generic_nack should carry."""

    command_id: int
    sequence: int
    status: int
    reason: str = field(default="")


Pdu = BindPdu | BindRespPdu | SmPdu | SmRespPdu | EmptyPdu


def is_response(command_id: int) -> bool:
    return bool(command_id & RESPONSE_BIT)


# -- encoding ---------------------------------------------------------------------------------


def _cstr(value: str, max_len: int) -> bytes:
    raw = value.encode("latin-1")
    if len(raw) >= max_len:
        raise ValueError(f"C-string {value!r} longer than {max_len - 1} octets")
    return raw + b"\x00"


def _tlvs(items: tuple[Tlv, ...]) -> bytes:
    return b"".join(struct.pack(">HH", t.tag, len(t.value)) + t.value for t in items)


def _sm_body(pdu: SmPdu) -> bytes:
    if len(pdu.short_message) > MAX_SHORT_MESSAGE:
        raise ValueError("short_message longer than 254 octets: use message_payload")
    return b"".join(
        (
            _cstr(pdu.service_type, 6),
            bytes((pdu.source_addr_ton, pdu.source_addr_npi)),
            _cstr(pdu.source_addr, 21),
            bytes((pdu.dest_addr_ton, pdu.dest_addr_npi)),
            _cstr(pdu.destination_addr, 21),
            bytes((pdu.esm_class, pdu.protocol_id, pdu.priority_flag)),
            _cstr(pdu.schedule_delivery_time, 17),
            _cstr(pdu.validity_period, 17),
            bytes((pdu.registered_delivery, pdu.replace_if_present_flag, pdu.data_coding)),
            bytes((pdu.sm_default_msg_id, len(pdu.short_message))),
            pdu.short_message,
            _tlvs(pdu.tlvs),
        )
    )


def _body(pdu: Pdu) -> bytes:
    if isinstance(pdu, SmPdu):
        return _sm_body(pdu)
    if isinstance(pdu, SmRespPdu):
        return _cstr(pdu.message_id, 65)
    if isinstance(pdu, BindPdu):
        return b"".join(
            (
                _cstr(pdu.system_id, 16),
                _cstr(pdu.password, 9),
                _cstr(pdu.system_type, 13),
                bytes((pdu.interface_version, pdu.addr_ton, pdu.addr_npi)),
                _cstr(pdu.address_range, 41),
            )
        )
    if isinstance(pdu, BindRespPdu):
        return _cstr(pdu.system_id, 16) + _tlvs(pdu.tlvs)
    return b""


def encode(pdu: Pdu) -> bytes:
    """The wire bytes of one PDU; raises ValueError for values SMPP cannot carry (our bug)."""
    if not 0 < pdu.sequence <= MAX_SEQUENCE:
        raise ValueError(f"sequence number {pdu.sequence} outside 1..0x7FFFFFFF")
    body = _body(pdu)
    return HEADER.pack(HEADER_LEN + len(body), pdu.command_id, pdu.status, pdu.sequence) + body


# -- decoding ---------------------------------------------------------------------------------


class _Bad(Exception):
    def __init__(self, status: Status, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int) -> None:
        self.data = data
        self.pos = pos

    def octet(self) -> int:
        if self.pos >= len(self.data):
            raise _Bad(Status.ESME_RINVCMDLEN, "body ends inside a mandatory field")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def cstr(self, max_len: int, name: str) -> str:
        end = self.data.find(b"\x00", self.pos, self.pos + max_len)
        if end < 0:
            raise _Bad(Status.ESME_RINVCMDLEN, f"{name}: no NUL within {max_len} octets")
        value = self.data[self.pos : end].decode("latin-1")
        self.pos = end + 1
        return value

    def octets(self, count: int, name: str) -> bytes:
        if self.pos + count > len(self.data):
            raise _Bad(Status.ESME_RINVMSGLEN, f"{name}: {count} octets announced, fewer present")
        value = self.data[self.pos : self.pos + count]
        self.pos += count
        return value

    def tlvs(self) -> tuple[Tlv, ...]:
        items: list[Tlv] = []
        data = self.data
        while self.pos < len(data):
            if self.pos + 4 > len(data):
                raise _Bad(Status.ESME_RINVOPTPARSTREAM, "trailing octets shorter than a TLV")
            tag, length = struct.unpack_from(">HH", data, self.pos)
            self.pos += 4
            if self.pos + length > len(data):
                raise _Bad(Status.ESME_RINVPARLEN, f"TLV 0x{tag:04X} overruns the PDU")
            items.append(Tlv(tag, data[self.pos : self.pos + length]))
            self.pos += length
        return tuple(items)

    def end(self) -> None:
        if self.pos != len(self.data):
            raise _Bad(Status.ESME_RINVCMDLEN, "octets after the last field")


def _decode_sm(cid: CommandId, seq: int, status: int, r: _Reader) -> SmPdu:
    service_type = r.cstr(6, "service_type")
    src_ton, src_npi = r.octet(), r.octet()
    source_addr = r.cstr(21, "source_addr")
    dst_ton, dst_npi = r.octet(), r.octet()
    destination_addr = r.cstr(21, "destination_addr")
    esm_class, protocol_id, priority_flag = r.octet(), r.octet(), r.octet()
    schedule = r.cstr(17, "schedule_delivery_time")
    validity = r.cstr(17, "validity_period")
    registered, replace, data_coding = r.octet(), r.octet(), r.octet()
    default_msg_id, sm_length = r.octet(), r.octet()
    short_message = r.octets(sm_length, "short_message")
    return SmPdu(
        cid, seq, destination_addr, short_message, source_addr, src_ton, src_npi, dst_ton,
        dst_npi, service_type, esm_class, protocol_id, priority_flag, schedule, validity,
        registered, replace, data_coding, default_msg_id, r.tlvs(), status,
    )  # fmt: skip


def _decode_body(cid: CommandId, seq: int, status: int, r: _Reader) -> Pdu:
    if cid in (CommandId.SUBMIT_SM, CommandId.DELIVER_SM):
        return _decode_sm(cid, seq, status, r)
    if cid in (CommandId.SUBMIT_SM_RESP, CommandId.DELIVER_SM_RESP):
        message_id = r.cstr(65, "message_id") if r.pos < len(r.data) else ""
        r.end()
        return SmRespPdu(cid, seq, status, message_id)
    if cid in BIND_COMMANDS:
        system_id, password = r.cstr(16, "system_id"), r.cstr(9, "password")
        system_type = r.cstr(13, "system_type")
        version, ton, npi = r.octet(), r.octet(), r.octet()
        address_range = r.cstr(41, "address_range")
        r.end()
        return BindPdu(cid, seq, system_id, password, system_type, version, ton, npi, address_range)
    if cid.name.startswith("BIND_"):
        system_id = r.cstr(16, "system_id") if r.pos < len(r.data) else ""
        return BindRespPdu(cid, seq, status, system_id, r.tlvs())
    r.end()
    return EmptyPdu(cid, seq, status)


def decode(frame: bytes) -> Pdu | MalformedPdu:
    """One PDU from one whole frame (as cut by `FrameBuffer`); a bad one is a `MalformedPdu`."""
    if len(frame) < HEADER_LEN:
        return MalformedPdu(0, 0, Status.ESME_RINVCMDLEN, "frame shorter than a header")
    length, command_id, status, sequence = HEADER.unpack_from(frame)
    if length != len(frame):
        return MalformedPdu(command_id, sequence, Status.ESME_RINVCMDLEN, "length mismatch")
    if command_id not in _KNOWN_IDS:
        return MalformedPdu(command_id, sequence, Status.ESME_RINVCMDID, "unknown command_id")
    try:
        return _decode_body(CommandId(command_id), sequence, status, _Reader(frame, HEADER_LEN))
    except _Bad as bad:
        return MalformedPdu(command_id, sequence, bad.status, bad.reason)


class FrameBuffer:
    """Cuts a TCP byte stream into frames by command_length; a bad length desynchronises it."""

    __slots__ = ("_buffer", "desynchronised")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.desynchronised = False

    def feed(self, data: bytes) -> list[bytes]:
        """Complete frames now available; sets `desynchronised` (and stops) on an absurd length."""
        buffer = self._buffer
        buffer += data
        frames: list[bytes] = []
        pos = 0
        while len(buffer) - pos >= 4 and not self.desynchronised:
            length = int.from_bytes(buffer[pos : pos + 4], "big")
            if length < HEADER_LEN or length > MAX_PDU_LEN:
                self.desynchronised = True
                break
            if len(buffer) - pos < length:
                break
            frames.append(bytes(buffer[pos : pos + length]))
            pos += length
        del buffer[:pos]
        return frames

    def pending_header(self) -> bytes:
        """The bytes at the desynchronisation point (to read a sequence number for the nack)."""
        return bytes(self._buffer[:HEADER_LEN])
