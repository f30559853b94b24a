"""Delivery receipts: parsing (text `id:… stat:…` and TLV forms), correlation, part aggregation.

Pure: no IO and no clock. Correlation tolerates an SMSC that writes the receipt's id in another
base than the submit_sm_resp's (hex vs decimal, leading zeros, case) and a receipt that arrives
before the response that tells us the id.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from config.vocabulary import SmsStatus
from dialer.smpp.pdu import SmPdu, Tag

ESM_TYPE_MASK = 0x3C
ESM_DELIVERY_RECEIPT = 0x04
ESM_INTERMEDIATE_NOTIFICATION = 0x20

TEXT_STATES = {
    "DELIVRD": SmsStatus.DELIVERED,
    "EXPIRED": SmsStatus.EXPIRED,
    "DELETED": SmsStatus.UNDELIVERABLE,
    "UNDELIV": SmsStatus.UNDELIVERABLE,
    "ACCEPTD": SmsStatus.ACCEPTED,
    "UNKNOWN": SmsStatus.ACCEPTED,
    "REJECTD": SmsStatus.REJECTED,
    "ENROUTE": SmsStatus.ACCEPTED,
}
# message_state TLV values (SMPP 3.4 §5.3.2.35)
TLV_STATES = {
    1: SmsStatus.ACCEPTED,  # ENROUTE
    2: SmsStatus.DELIVERED,
    3: SmsStatus.EXPIRED,
    4: SmsStatus.UNDELIVERABLE,  # DELETED
    5: SmsStatus.UNDELIVERABLE,
    6: SmsStatus.ACCEPTED,
    7: SmsStatus.ACCEPTED,  # UNKNOWN
    8: SmsStatus.REJECTED,
}
FINAL_STATUSES = frozenset(
    {SmsStatus.DELIVERED, SmsStatus.UNDELIVERABLE, SmsStatus.EXPIRED, SmsStatus.REJECTED,
     SmsStatus.FAILED}
)  # fmt: skip
# Best first. In flight, the least advanced part decides; any failed part outranks all in flight.
SEVERITY = (
    SmsStatus.DELIVERED,
    SmsStatus.ACCEPTED,
    SmsStatus.SUBMITTED,
    SmsStatus.QUEUED,
    SmsStatus.EXPIRED,
    SmsStatus.UNDELIVERABLE,
    SmsStatus.REJECTED,
    SmsStatus.FAILED,
)
_RANK = {status: rank for rank, status in enumerate(SEVERITY)}
_TEXT = re.compile(rb"\bid:(?P<id>[^\s]+).*?\bstat:(?P<stat>[A-Za-z]+)(?:.*?\berr:(?P<err>\w+))?",
                   re.IGNORECASE | re.DOTALL)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a delivery receipt says: the SMSC's message id and the part's new status."""

    message_id: str
    status: SmsStatus
    error: str | None = None


def aggregate(statuses: Iterable[SmsStatus]) -> SmsStatus:
    """A message's status from its parts': delivered only if all are, else the worst one."""
    return max(statuses, key=_RANK.__getitem__, default=SmsStatus.QUEUED)


def is_receipt(pdu: SmPdu) -> bool:
    esm_type = pdu.esm_class & ESM_TYPE_MASK
    if esm_type in (ESM_DELIVERY_RECEIPT, ESM_INTERMEDIATE_NOTIFICATION):
        return True
    return pdu.tlv(Tag.RECEIPTED_MESSAGE_ID) is not None


def parse_receipt(pdu: SmPdu) -> Receipt | None:
    """The receipt in a deliver_sm (TLVs win over the text form), None if it carries none."""
    tlv_id, tlv_state = pdu.tlv(Tag.RECEIPTED_MESSAGE_ID), pdu.tlv(Tag.MESSAGE_STATE)
    error_tlv = pdu.tlv(Tag.NETWORK_ERROR_CODE)
    error = error_tlv.hex() if error_tlv else None
    if tlv_id is not None and tlv_state and tlv_state[0] in TLV_STATES:
        tlv_status = TLV_STATES[tlv_state[0]]
        return Receipt(tlv_id.rstrip(b"\x00").decode("latin-1"), tlv_status, error)
    text = pdu.short_message or pdu.tlv(Tag.MESSAGE_PAYLOAD) or b""
    match = _TEXT.search(text)
    if match is None:
        return None
    state = TEXT_STATES.get(match["stat"].decode("ascii").upper())
    if state is None:
        return None
    message_id = tlv_id.rstrip(b"\x00").decode("latin-1") if tlv_id else match["id"].decode()
    err = match["err"].decode() if match["err"] else error
    return Receipt(message_id, state, None if state is SmsStatus.DELIVERED else err)


def id_keys(message_id: str) -> tuple[Hashable, ...]:
    """Keys an accepted message id is indexed under: its text and its value in each base."""
    text = message_id.strip().lower()
    keys: list[Hashable] = [("text", text.lstrip("0") or "0")]
    if text and all(c in "0123456789abcdef" for c in text):
        keys.append(("hex", int(text, 16)))
        if text.isascii() and text.isdigit():
            keys.append(("dec", int(text, 10)))
    return tuple(keys)


def lookup_keys(receipt_id: str) -> tuple[Hashable, ...]:
    """Keys to try for a receipt's id: same text, then the other base's value."""
    text = receipt_id.strip().lower()
    keys: list[Hashable] = [("text", text.lstrip("0") or "0")]
    if text.isascii() and text.isdigit():
        keys.append(("hex", int(text, 10)))
    if text and all(c in "0123456789abcdef" for c in text):
        keys.append(("dec", int(text, 16)))
    return tuple(keys)


T = TypeVar("T")
_AMBIGUOUS = object()


class Correlator(Generic[T]):
    """Maps SMSC message ids to our parts (`T`); keeps early receipts until their id is known."""

    def __init__(self) -> None:
        self._index: dict[Hashable, object] = {}
        self._early: dict[Hashable, tuple[float, Receipt]] = {}

    def __len__(self) -> int:
        return len(self._index)

    def accepted(self, message_id: str, part: T) -> Receipt | None:
        """Index an accepted part; returns a receipt that came early for it, if one did."""
        keys = id_keys(message_id)
        for key in keys:
            self._index[key] = _AMBIGUOUS if key in self._index else part
        for key in keys:
            early = self._early.get(key)
            if early is not None:
                for stale in lookup_keys(early[1].message_id):
                    self._early.pop(stale, None)
                return early[1]
        return None

    def match(self, receipt: Receipt) -> T | None:
        """The part a receipt is about; exact text wins over a base conversion; None if unknown."""
        for key in lookup_keys(receipt.message_id):
            found = self._index.get(key)
            if found is not None and found is not _AMBIGUOUS:
                return found  # type: ignore[return-value]
        return None

    def park(self, receipt: Receipt, now: float) -> None:
        """Keep a receipt whose id is not known yet (it beat its submit_sm_resp)."""
        for key in lookup_keys(receipt.message_id):
            self._early[key] = (now, receipt)

    def expire_early(self, now: float, max_age_s: float) -> list[Receipt]:
        """Drop and return early receipts older than `max_age_s` (they will never match)."""
        old = {id(r): r for t, r in self._early.values() if now - t > max_age_s}
        if old:
            self._early = {k: v for k, v in self._early.items() if id(v[1]) not in old}
        return list(old.values())

    def forget(self, message_id: str) -> None:
        """Stop tracking a part whose status is final."""
        for key in id_keys(message_id):
            self._index.pop(key, None)


def normalise_id(message_id: str) -> str:
    """An SMSC message id as stored for lookups: lower case, leading zeros stripped."""
    return message_id.strip().lower().lstrip("0") or "0"


def receipt_candidates(receipt_id: str) -> tuple[str, ...]:
    """Normalised ids a receipt's id may stand for: itself first, then its value in the other
    base (a decimal receipt id as hex text, a hex one as decimal text)."""
    text = normalise_id(receipt_id)
    out = [text]
    if text.isascii() and text.isdigit():
        out.append(format(int(text, 10), "x"))
    if all(c in "0123456789abcdef" for c in text):
        out.append(str(int(text, 16)))
    return tuple(dict.fromkeys(out))
