"""The SMS send path: permit check, segmentation, persistence, submit, receipts and replies.

`SmsSender.send` / `send_many` take a compliance `Permit` per message (the destination comes from
it, never from the caller) and return the tracked `OutboundSms`, or a `SendRefused` value. The
message enters the outbox (`queued`) before anything is submitted; `resume` continues messages
already in the outbox (recovery after a crash) from their stored state, with their original
part bytes. It is the `SmppClient`'s listener: it records every fact through the `SmsStore` port
before the client acts on it.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from compliance.permit import Permit
from config.vocabulary import Channel, SmsEncoding, SmsStatus
from dialer.smpp import persistence as ps
from dialer.smpp.client import SmppClient, SubmitOutcome
from dialer.smpp.pdu import CommandId, SmPdu, status_name
from dialer.smpp.receipts import (
    FINAL_STATUSES,
    Correlator,
    Receipt,
    aggregate,
    is_receipt,
    parse_receipt,
)
from dialer.smpp.replies import (
    DEFAULT_OPT_OUT_KEYWORDS,
    InboundAssembler,
    InboundEvent,
    OptOutDetector,
)
from dialer.smpp.segmentation import (
    DATA_CODING,
    REFERENCE_MODULUS,
    Concatenation,
    ReferenceAllocator,
    build_parts,
    plan,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SenderConfig:
    source_addr: str = ""
    concatenation: Concatenation = Concatenation.UDH8
    want_receipts: bool = True
    validity_period: str = ""
    early_receipt_max_age_s: float = 600.0
    opt_out_keywords: tuple[str, ...] = DEFAULT_OPT_OUT_KEYWORDS


@dataclass(frozen=True, slots=True)
class SendRefused:
    reason: str
    duplicate: bool = False  # the key is already in the outbox: that message exists, once


@dataclass(frozen=True, slots=True)
class SendRequest:
    permit: Permit
    text: str
    message_key: str | None = None
    source_addr: str | None = None  # the sender shown on the handset; default SenderConfig's


class InboundSink(Protocol):
    async def inbound_received(self, events: Sequence[InboundEvent]) -> None:
        """Record opt-outs and replies durably (the deliver_sm is acknowledged afterwards)."""


class MemoryInboundSink:
    def __init__(self) -> None:
        self.events: list[InboundEvent] = []

    async def inbound_received(self, events: Sequence[InboundEvent]) -> None:
        self.events.extend(events)


class OutboundSms:
    """One message being sent: its parts' statuses and SMSC ids, and events to wait on."""

    def __init__(self, key: str, destination: str, encoding: SmsEncoding, parts: int) -> None:
        self.key = key
        self.destination = destination
        self.encoding = encoding
        self.statuses = [SmsStatus.QUEUED] * parts
        self.message_ids: list[str | None] = [None] * parts
        self.errors: list[str | None] = [None] * parts
        self.accepted = asyncio.Event()
        self.finished = asyncio.Event()

    @property
    def parts(self) -> int:
        return len(self.statuses)

    @property
    def status(self) -> SmsStatus:
        return aggregate(self.statuses)

    def _update(self, index: int, status: SmsStatus, error: str | None) -> bool:
        """Apply a part's status unless it is already final; True when it changed."""
        if self.statuses[index - 1] in FINAL_STATUSES:
            return False
        self.statuses[index - 1] = status
        self.errors[index - 1] = error or self.errors[index - 1]
        if all(s not in IN_OUTBOX for s in self.statuses):
            self.accepted.set()
        if all(s in FINAL_STATUSES for s in self.statuses):
            self.finished.set()
        return True


IN_OUTBOX = frozenset({SmsStatus.QUEUED, SmsStatus.SUBMITTED})


def _source_ton_npi(source: str) -> tuple[int, int]:
    if not source:
        return 0, 0
    return (1, 1) if source.lstrip("+").isdigit() else (5, 0)


def submit_pdus(message: ps.QueuedMessage, want_receipts: bool, validity: str) -> list[SmPdu]:
    """The submit_sm of each part, rebuilt byte for byte from what the outbox stored."""
    concatenation = Concatenation(message.concatenation)
    parts = build_parts(plan(message.text, concatenation), concatenation, message.reference)
    ton, npi = _source_ton_npi(message.source_addr)
    destination = message.destination.lstrip("+")
    return [SmPdu(CommandId.SUBMIT_SM, 1, destination, part.short_message, message.source_addr,
                  ton, npi, esm_class=part.esm_class, validity_period=validity,
                  registered_delivery=1 if want_receipts else 0,
                  data_coding=DATA_CODING[message.encoding], tlvs=part.tlvs)
            for part in parts]  # fmt: skip


class SmsSender:
    """Sends permitted SMS through an `SmppClient` and tracks them to a final status."""

    def __init__(
        self,
        store: ps.SmsStore,
        inbound: InboundSink,
        config: SenderConfig | None = None,
        clock: Callable[[], datetime] = utc_now,
        references: ReferenceAllocator | None = None,
    ) -> None:
        self.store, self.inbound = store, inbound
        self.config = config or SenderConfig()
        self.clock = clock
        self.references = references or ReferenceAllocator(start=secrets.randbelow(65536))
        self.client: SmppClient | None = None
        self.receipts_applied = 0
        self.replayed_uncertain = 0
        self.unparsed_delivers = 0
        self._messages: dict[str, OutboundSms] = {}
        self._correlator: Correlator[ps.PartRef] = Correlator()
        self._detector = OptOutDetector(self.config.opt_out_keywords)
        self._assembler = InboundAssembler()
        self._empty = asyncio.Event()
        self._empty.set()

    @property
    def tracked(self) -> int:
        """Messages not yet final."""
        return len(self._messages)

    async def wait_all_final(self) -> None:
        await self._empty.wait()

    async def send(
        self, permit: Permit, text: str, *, message_key: str | None = None
    ) -> OutboundSms | SendRefused:
        return (await self.send_many([SendRequest(permit, text, message_key)]))[0]

    def _refusal(self, permit: Permit, now: datetime) -> SendRefused | None:
        if permit.channel is not Channel.SMS:
            return SendRefused(f"permit is for channel {permit.channel.value}, not sms")
        if not permit.is_valid_at(now):
            return SendRefused(f"permit for {permit.phone_e164} expired at {permit.expires_at}")
        if self.client is None:
            return SendRefused("no SMPP client attached")
        return None

    def _queued(self, request: SendRequest, now: datetime, claimed: bool) -> ps.QueuedMessage:
        cfg, permit = self.config, request.permit
        message = plan(request.text, cfg.concatenation)
        reference = 0
        if message.is_multipart:
            modulus = REFERENCE_MODULUS[cfg.concatenation]
            reference = self.references.allocate(permit.phone_e164, modulus)
        return ps.QueuedMessage(
            key=request.message_key or uuid.uuid4().hex,
            destination=permit.phone_e164,
            text=request.text,
            encoding=message.encoding,
            parts=len(message.chunks),
            concatenation=cfg.concatenation.value,
            reference=reference,
            source_addr=request.source_addr or cfg.source_addr,
            at=now,
            permit_expires_at=permit.expires_at,
            permit_reasons=permit.reasons,
            campaign_id=permit.campaign_id,
            lead_id=permit.lead_id,
            claimed=claimed,
        )

    async def send_many(
        self, requests: Sequence[SendRequest], *, claimed: bool = True
    ) -> list[OutboundSms | SendRefused]:
        """Enter permitted messages in the outbox in one write, then submit their parts.

        With `claimed=False` the messages are only queued for an outbox worker (see outbox.py),
        which is how a listener callback sends (it must not wait on the client's queue).
        """
        now = self.clock()
        results: list[OutboundSms | SendRefused | ps.QueuedMessage] = []
        keys: set[str] = set()
        for request in requests:
            refusal = self._refusal(request.permit, now)
            queued = self._queued(request, now, claimed) if refusal is None else None
            if queued is not None and queued.key in keys:
                refusal, queued = SendRefused(f"message {queued.key} twice in one batch"), None
            results.append(refusal or queued)  # type: ignore[arg-type]
            keys.add(queued.key if queued is not None else "")
        fresh = await self.store.record_queued(
            [r for r in results if isinstance(r, ps.QueuedMessage)]
        )
        out: list[OutboundSms | SendRefused] = []
        for result in results:
            if not isinstance(result, ps.QueuedMessage):
                out.append(result)
            elif result.key not in fresh:
                reason = f"message {result.key} is already in the outbox"
                out.append(SendRefused(reason, duplicate=True))
            elif not claimed:
                out.append(OutboundSms(result.key, result.destination, result.encoding,
                                       result.parts))  # fmt: skip
            else:
                out.append(await self._submit(result, ()))
        return out

    async def resume(self, messages: Sequence[ps.StoredMessage]) -> int:
        """Continue outbox messages from their stored state; returns the parts resubmitted."""
        resubmitted = 0
        for stored in messages:
            await self._submit(stored.message, stored.parts)
            resubmitted += sum(1 for part in stored.parts if part.status in IN_OUTBOX)
        return resubmitted

    async def _submit(
        self, message: ps.QueuedMessage, stored: Sequence[ps.StoredPart]
    ) -> OutboundSms:
        tracked = OutboundSms(message.key, message.destination, message.encoding, message.parts)
        state = {part.index: part for part in stored}
        self._messages[message.key] = tracked
        self._empty.clear()
        assert self.client is not None
        pdus = submit_pdus(message, self.config.want_receipts, self.config.validity_period)
        for index, pdu in enumerate(pdus, start=1):
            ref = ps.PartRef(message.key, index, message.parts)
            known = state.get(index)
            if known is not None and known.status not in IN_OUTBOX:
                self._restore(tracked, ref, known)
                continue
            if known is not None and known.status is SmsStatus.SUBMITTED:
                self.replayed_uncertain += 1
            await self.client.submit(pdu, ref)
        self._forget_if_done(tracked)
        return tracked

    def _restore(self, tracked: OutboundSms, ref: ps.PartRef, known: ps.StoredPart) -> None:
        tracked.statuses[ref.index - 1] = known.status
        tracked.message_ids[ref.index - 1] = known.message_id
        if known.status is SmsStatus.ACCEPTED and known.message_id:
            self._correlator.accepted(known.message_id, ref)
        tracked._update(ref.index, known.status, None)

    def _forget_if_done(self, message: OutboundSms) -> None:
        if all(s in FINAL_STATUSES for s in message.statuses):
            message.finished.set()
            self._messages.pop(message.key, None)
            if not self._messages:
                self._empty.set()

    # -- ClientListener -------------------------------------------------------------------------

    async def submits_writing(self, tags: Sequence[object]) -> None:
        now = self.clock()
        refs = [tag for tag in tags if isinstance(tag, ps.PartRef)]
        await self.store.record_submitted([ps.SubmittedPart(ref, now) for ref in refs])
        for ref in refs:
            message = self._messages.get(ref.message_key)
            if message is not None and message.statuses[ref.index - 1] is SmsStatus.QUEUED:
                message.statuses[ref.index - 1] = SmsStatus.SUBMITTED

    async def submits_resolved(self, outcomes: Sequence[SubmitOutcome]) -> None:
        now = self.clock()
        accepted: list[ps.AcceptedPart] = []
        changes: list[ps.PartStatusChange] = []
        for outcome in outcomes:
            ref = outcome.tag
            assert isinstance(ref, ps.PartRef)
            if outcome.accepted:
                accepted.append(ps.AcceptedPart(ref, outcome.message_id, now))
                early = self._correlator.accepted(outcome.message_id, ref)
                changes.append(ps.PartStatusChange(ref, SmsStatus.ACCEPTED, now))
                if early is not None:
                    changes.append(ps.PartStatusChange(ref, early.status, now, early.error))
            else:
                status = SmsStatus.FAILED if outcome.gave_up else SmsStatus.REJECTED
                error = outcome.reason or status_name(outcome.status)
                changes.append(ps.PartStatusChange(ref, status, now, error))
        if accepted:
            await self.store.record_accepted(accepted)
        for part in accepted:
            self._message_ids(part)
        await self._apply(changes)

    def _message_ids(self, part: ps.AcceptedPart) -> None:
        message = self._messages.get(part.ref.message_key)
        if message is not None:
            message.message_ids[part.ref.index - 1] = part.message_id

    async def delivers_received(self, pdus: Sequence[SmPdu]) -> None:
        now, mono = self.clock(), asyncio.get_running_loop().time()
        changes: list[ps.PartStatusChange] = []
        replies: list[InboundEvent] = []
        unknown: list[Receipt] = []
        for pdu in pdus:
            if is_receipt(pdu):
                receipt = parse_receipt(pdu)
                ref = self._correlator.match(receipt) if receipt is not None else None
                if receipt is None:
                    self.unparsed_delivers += 1
                elif ref is None:
                    unknown.append(receipt)
                else:
                    changes.append(ps.PartStatusChange(ref, receipt.status, now, receipt.error))
                continue
            text = self._assembler.add(pdu, mono)
            if text is not None:
                replies.append(self._detector.classify(pdu.source_addr, pdu.destination_addr,
                                                       text, now))  # fmt: skip
        if unknown:
            await self._receipts_from_store(unknown, now, mono)
        self.receipts_applied += len(changes)
        stale = self._correlator.expire_early(mono, self.config.early_receipt_max_age_s)
        if stale:
            await self.store.record_unmatched_receipts(
                [ps.UnmatchedReceipt(r.message_id, r.status, now) for r in stale]
            )
        if replies:
            await self.inbound.inbound_received(replies)
        await self._apply(changes)

    async def _receipts_from_store(
        self, receipts: list[Receipt], now: datetime, mono: float
    ) -> None:
        """Receipts for parts this process does not track (sent before a restart, or by another
        node of the same account) are matched in the store; the rest beat their response."""
        found = await self.store.match_receipts([r.message_id for r in receipts])
        direct: list[ps.PartStatusChange] = []
        for receipt in receipts:
            ref = found.get(receipt.message_id)
            if ref is None or ref.message_key in self._messages:
                self._correlator.park(receipt, mono)
            else:
                direct.append(ps.PartStatusChange(ref, receipt.status, now, receipt.error))
        if direct:
            await self.store.record_statuses(direct)
            self.receipts_applied += len(direct)

    async def _apply(self, changes: list[ps.PartStatusChange]) -> None:
        """Persist status changes that move a part forward, then update the tracked messages."""
        effective = [c for c in changes if self._moves(c)]
        persisted = [c for c in effective if c.status is not SmsStatus.ACCEPTED]
        if persisted:
            await self.store.record_statuses(persisted)
        for change in effective:
            self._update(change)

    def _moves(self, change: ps.PartStatusChange) -> bool:
        message = self._messages.get(change.ref.message_key)
        return message is not None and message.statuses[change.ref.index - 1] not in FINAL_STATUSES

    def _update(self, change: ps.PartStatusChange) -> None:
        message = self._messages.get(change.ref.message_key)
        if message is None or not message._update(change.ref.index, change.status, change.error):
            return
        message_id = message.message_ids[change.ref.index - 1]
        if change.status in FINAL_STATUSES and message_id is not None:
            self._correlator.forget(message_id)
        if message.finished.is_set():
            del self._messages[message.key]
            if not self._messages:
                self._empty.set()
