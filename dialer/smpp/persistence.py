"""The SMS send path's persistence port (a `typing.Protocol`) and its in-memory implementation.

The PostgreSQL outbox (`pg_store.PgSmsStore`) implements the same port with asyncpg. Every method
takes a batch so an adapter can write one statement per network read; each returns only once the
facts are durable, because the caller sends the submit_sm or acknowledges the deliver_sm after it.
A message is `queued` (with every part) when it is accepted for sending, each part `submitted`
just before it is written to the socket, `accepted` with the SMSC's id, then final.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from config.vocabulary import SmsEncoding, SmsStatus
from dialer.smpp.receipts import Correlator, Receipt


@dataclass(frozen=True, slots=True)
class PartRef:
    """One part of one outbound message: the message's key (the outbox row) and 1-based index."""

    message_key: str
    index: int
    total: int


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """A permitted message entering the outbox; enough to rebuild its exact parts on replay."""

    key: str
    destination: str
    text: str
    encoding: SmsEncoding
    parts: int
    concatenation: str
    reference: int
    source_addr: str
    at: datetime
    permit_expires_at: datetime
    permit_reasons: tuple[str, ...] = ()
    campaign_id: int | None = None
    lead_id: int | None = None
    claimed: bool = True


@dataclass(frozen=True, slots=True)
class StoredPart:
    """A part's state as the outbox holds it (for `SmsSender.resume`)."""

    index: int
    status: SmsStatus
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class StoredMessage:
    message: QueuedMessage
    parts: tuple[StoredPart, ...]


@dataclass(frozen=True, slots=True)
class SubmittedPart:
    ref: PartRef
    at: datetime


@dataclass(frozen=True, slots=True)
class AcceptedPart:
    ref: PartRef
    message_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class PartStatusChange:
    ref: PartRef
    status: SmsStatus
    at: datetime
    error: str | None = None


@dataclass(frozen=True, slots=True)
class UnmatchedReceipt:
    """A receipt no part could be found for (its id never came back in a submit_sm_resp)."""

    message_id: str
    status: SmsStatus
    at: datetime


class SmsStore(Protocol):
    async def record_queued(self, messages: Sequence[QueuedMessage]) -> frozenset[str]:
        """Enter messages in the outbox; returns the keys recorded now (a known key is skipped)."""

    async def record_submitted(self, parts: Sequence[SubmittedPart]) -> None:
        """Before the submit_sm is written: from here on the part may have reached the SMSC."""

    async def record_accepted(self, parts: Sequence[AcceptedPart]) -> None:
        """The SMSC took the part and named it (submit_sm_resp with ESME_ROK)."""

    async def record_statuses(self, changes: Sequence[PartStatusChange]) -> None:
        """A part's new status: from a receipt, a refusal, or our giving up."""

    async def record_unmatched_receipts(self, receipts: Sequence[UnmatchedReceipt]) -> None:
        """Receipts kept for the audit trail that matched no part."""

    async def match_receipts(self, message_ids: Sequence[str]) -> dict[str, PartRef]:
        """Parts still awaiting a receipt, found by SMSC id in durable state (after a restart)."""


FINAL = frozenset({SmsStatus.DELIVERED, SmsStatus.UNDELIVERABLE, SmsStatus.EXPIRED,
                   SmsStatus.REJECTED, SmsStatus.FAILED})  # fmt: skip


@dataclass
class PartRecord:
    ref: PartRef
    destination: str
    status: SmsStatus
    message_id: str | None = None
    submitted: int = 0
    accepted: int = 0


class MemorySmsStore:
    """`SmsStore` in a dict: for tests and the benchmark until the PostgreSQL outbox lands."""

    def __init__(self) -> None:
        self.messages: dict[str, QueuedMessage] = {}
        self.parts: dict[PartRef, PartRecord] = {}
        self.unmatched: list[UnmatchedReceipt] = []
        self.transitions: Counter[SmsStatus] = Counter()

    async def record_queued(self, messages: Sequence[QueuedMessage]) -> frozenset[str]:
        fresh = [m for m in messages if m.key not in self.messages]
        for message in fresh:
            self.messages[message.key] = message
            for index in range(1, message.parts + 1):
                ref = PartRef(message.key, index, message.parts)
                self.parts[ref] = PartRecord(ref, message.destination, SmsStatus.QUEUED)
            self.transitions[SmsStatus.QUEUED] += 1
        return frozenset(m.key for m in fresh)

    async def record_submitted(self, parts: Sequence[SubmittedPart]) -> None:
        for part in parts:
            record = self.parts[part.ref]
            if record.status in (SmsStatus.QUEUED, SmsStatus.SUBMITTED):
                record.status = SmsStatus.SUBMITTED
            record.submitted += 1
            self.transitions[SmsStatus.SUBMITTED] += 1

    async def record_accepted(self, parts: Sequence[AcceptedPart]) -> None:
        for part in parts:
            record = self.parts[part.ref]
            record.accepted += 1
            record.message_id = part.message_id
            if record.status not in (SmsStatus.DELIVERED, SmsStatus.UNDELIVERABLE,
                                     SmsStatus.EXPIRED):  # fmt: skip
                record.status = SmsStatus.ACCEPTED
            self.transitions[SmsStatus.ACCEPTED] += 1

    async def record_statuses(self, changes: Sequence[PartStatusChange]) -> None:
        for change in changes:
            record = self.parts[change.ref]
            if record.status not in FINAL:
                record.status = change.status
                self.transitions[change.status] += 1

    async def record_unmatched_receipts(self, receipts: Sequence[UnmatchedReceipt]) -> None:
        self.unmatched.extend(receipts)

    async def match_receipts(self, message_ids: Sequence[str]) -> dict[str, PartRef]:
        correlator: Correlator[PartRef] = Correlator()
        for record in self.parts.values():
            if record.message_id is not None and record.status is SmsStatus.ACCEPTED:
                correlator.accepted(record.message_id, record.ref)
        out: dict[str, PartRef] = {}
        for message_id in message_ids:
            ref = correlator.match(Receipt(message_id, SmsStatus.ACCEPTED))
            if ref is not None:
                out[message_id] = ref
        return out

    def message_statuses(self) -> dict[str, list[SmsStatus]]:
        out: dict[str, list[SmsStatus]] = {}
        for ref, record in self.parts.items():
            out.setdefault(ref.message_key, []).append(record.status)
        return out
