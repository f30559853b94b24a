"""The sans-IO SMSC core of our simulator: bind authentication, submits, receipts and faults.

One `SmscSession` per connection over one `SmscState` shared by all connections (message ids,
receipts and replies waiting for a receiver, counters). Random faults come from a seeded
`random.Random` and time is passed in, so a run is reproducible.
"""

from __future__ import annotations

import heapq
import itertools
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from dialer.smpp import pdu as p
from dialer.smpp.pdu import CommandId, Status, Tag, Tlv
from dialer.smpp.receipts import ESM_DELIVERY_RECEIPT
from dialer.smpp.segmentation import split_udh

RECEIPT_STATES = {"DELIVRD": 2, "EXPIRED": 3, "UNDELIV": 5}


class ReceiptForm(StrEnum):
    TEXT = "text"
    TLV = "tlv"
    BOTH = "both"


class IdBase(StrEnum):
    HEX = "hex"
    DECIMAL = "decimal"


@dataclass(frozen=True)
class SmscConfig:
    """What the simulated SMSC accepts and which faults it injects (rates are fractions)."""

    system_id: str = "dialer"
    password: str = "secret"
    max_response_delay_ms: float = 0.0
    throttle_rate: float = 0.0
    queue_full_rate: float = 0.0
    receipt_delay_ms: float = 50.0
    undeliverable_rate: float = 0.0
    expired_rate: float = 0.0
    early_receipt_rate: float = 0.0
    receipt_form: ReceiptForm = ReceiptForm.TEXT
    message_id_base: IdBase = IdBase.HEX
    receipt_id_base: IdBase | None = None
    drop_every: int = 0
    malformed_rate: float = 0.0
    auto_reply: str = ""
    enquire_link_interval_s: float = 0.0
    seed: int = 1


@dataclass(order=True, slots=True)
class _Job:
    """A deliver_sm waiting for a receiver: a receipt or a mobile-originated message."""

    due: float
    order: int
    pdu: p.SmPdu = field(compare=False)


@dataclass
class SmscStats:
    binds: int = 0
    bind_failures: int = 0
    submits: int = 0
    accepted: int = 0
    throttled: int = 0
    duplicates: int = 0
    drops: int = 0
    malformed_sent: int = 0
    nacks_received: int = 0
    receipts_sent: int = 0
    receipts_acked: int = 0
    replies_sent: int = 0
    statuses: Counter[str] = field(default_factory=Counter)


class SmscState:
    """Everything the connections share."""

    def __init__(self, config: SmscConfig, wall_offset_s: float = 0.0) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.stats = SmscStats()
        self.wall_offset_s = wall_offset_s
        self._ids = itertools.count(0x10000000 + self.rng.randrange(0x1000000))
        self._order = itertools.count()
        self._jobs: list[_Job] = []
        self._seen: set[tuple[str, bytes, tuple[Tlv, ...]]] = set()
        self.duplicated: list[str] = []  # destination of every duplicate, in order

    def next_message_id(self) -> int:
        return next(self._ids)

    def queue(self, pdu: p.SmPdu, due: float) -> None:
        heapq.heappush(self._jobs, _Job(due, next(self._order), pdu))

    def take_due(self, now: float, limit: int) -> list[p.SmPdu]:
        out: list[p.SmPdu] = []
        while self._jobs and self._jobs[0].due <= now and len(out) < limit:
            out.append(heapq.heappop(self._jobs).pdu)
        return out

    def next_due(self) -> float | None:
        return self._jobs[0].due if self._jobs else None

    @property
    def jobs_waiting(self) -> int:
        return len(self._jobs)

    def inject_mo(self, source_addr: str, destination_addr: str, text: str, now: float) -> None:
        """A handset sends `text` (UCS-2 when not ASCII) to our number."""
        ascii_only = text.isascii()
        payload = text.encode("ascii") if ascii_only else text.encode("utf-16-be")
        pdu = p.SmPdu(CommandId.DELIVER_SM, 1, destination_addr, payload, source_addr, 1, 1,
                      data_coding=0x01 if ascii_only else 0x08)  # fmt: skip
        self.queue(pdu, now)

    def remember(self, submit: p.SmPdu) -> bool:
        """Count a submit's content; False when the very same content came before (a duplicate)."""
        key = (submit.destination_addr, submit.short_message, submit.tlvs)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def forget(self, submit: p.SmPdu) -> None:
        self._seen.discard((submit.destination_addr, submit.short_message, submit.tlvs))


def format_id(value: int, base: IdBase) -> str:
    return f"{value:X}" if base is IdBase.HEX else f"{value:010d}"


class SmscSession:
    """One ESME connection as the SMSC sees it."""

    MAX_UNACKED = 50

    def __init__(self, state: SmscState, now: float) -> None:
        self.state = state
        self.config = state.config
        self.bound_as: CommandId | None = None
        self.should_close = False
        self._out = bytearray()
        self._frames = p.FrameBuffer()
        self._delayed: list[tuple[float, int, bytes, tuple[p.SmPdu, str] | None]] = []
        self._unacked: dict[int, p.SmPdu] = {}
        self._sequence = itertools.count(1)
        self._submits_here = 0
        self._next_enquire = now + self.config.enquire_link_interval_s
        self._handlers: dict[CommandId, Callable[[p.Pdu, float], None]] = {
            CommandId.BIND_TRANSCEIVER: self._on_bind,
            CommandId.BIND_TRANSMITTER: self._on_bind,
            CommandId.BIND_RECEIVER: self._on_bind,
            CommandId.SUBMIT_SM: self._on_submit,
            CommandId.DELIVER_SM_RESP: self._on_deliver_resp,
            CommandId.ENQUIRE_LINK: self._on_enquire_link,
            CommandId.ENQUIRE_LINK_RESP: lambda pdu, now: None,
            CommandId.UNBIND: self._on_unbind,
            CommandId.GENERIC_NACK: self._on_nack,
        }

    @property
    def receives(self) -> bool:
        return self.bound_as in (CommandId.BIND_RECEIVER, CommandId.BIND_TRANSCEIVER)

    def data_to_send(self) -> bytes:
        data = bytes(self._out)
        self._out.clear()
        return data

    def receive_data(self, data: bytes, now: float) -> None:
        for frame in self._frames.feed(data):
            if self.should_close:
                return
            self._receive_frame(frame, now)
        if self._frames.desynchronised and not self.should_close:
            self._send(p.EmptyPdu(CommandId.GENERIC_NACK, 1, Status.ESME_RINVCMDLEN))
            self.should_close = True

    def _receive_frame(self, frame: bytes, now: float) -> None:
        pdu = p.decode(frame)
        if isinstance(pdu, p.MalformedPdu):
            if not p.is_response(pdu.command_id) and pdu.sequence:
                self._send(p.EmptyPdu(CommandId.GENERIC_NACK, pdu.sequence, pdu.status))
            return
        handler = self._handlers.get(pdu.command_id)
        if handler is None:
            self._send(p.EmptyPdu(CommandId.GENERIC_NACK, pdu.sequence, Status.ESME_RINVCMDID))
            return
        handler(pdu, now)

    def get_timer(self) -> float | None:
        deadlines = [self._delayed[0][0]] if self._delayed else []
        if self.receives and len(self._unacked) < self.MAX_UNACKED:
            due = self.state.next_due()
            if due is not None:
                deadlines.append(due)
        if self.bound_as is not None and self.config.enquire_link_interval_s > 0:
            deadlines.append(self._next_enquire)
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: float) -> None:
        while self._delayed and self._delayed[0][0] <= now:
            _, _, data, submit = heapq.heappop(self._delayed)
            self._out += data
            if submit is not None:
                delay_s = self.config.receipt_delay_ms / 1000
                self._schedule_receipt(submit[0], submit[1], now, delay_s)
        if self.receives:
            for job in self.state.take_due(now, self.MAX_UNACKED - len(self._unacked)):
                self._deliver(job, now)
        interval = self.config.enquire_link_interval_s
        if self.bound_as is not None and interval > 0 and now >= self._next_enquire:
            self._next_enquire = now + interval
            self._send(p.EmptyPdu(CommandId.ENQUIRE_LINK, next(self._sequence)))

    def connection_lost(self) -> None:
        """Receipts sent but not acknowledged go back to the queue; unanswered submits roll back."""
        for job in self._unacked.values():
            self.state.queue(job, 0.0)
        self._unacked.clear()
        for _, _, _, submit in self._delayed:
            if submit is not None:
                self.state.forget(submit[0])
                self.state.stats.accepted -= 1
        self._delayed.clear()

    # -- handlers -------------------------------------------------------------------------------

    def _on_bind(self, pdu: p.Pdu, now: float) -> None:
        assert isinstance(pdu, p.BindPdu)
        resp = CommandId(pdu.command_id | p.RESPONSE_BIT)
        status = Status.ESME_ROK
        if self.bound_as is not None:
            status = Status.ESME_RALYBND
        elif pdu.system_id != self.config.system_id:
            status = Status.ESME_RINVSYSID
        elif pdu.password != self.config.password:
            status = Status.ESME_RINVPASWD
        if status == Status.ESME_ROK:
            self.bound_as = pdu.command_id
            self.state.stats.binds += 1
            self._next_enquire = now + self.config.enquire_link_interval_s
        else:
            self.state.stats.bind_failures += 1
        self._send(p.BindRespPdu(resp, pdu.sequence, status, "simsmsc"))

    def _on_submit(self, pdu: p.Pdu, now: float) -> None:
        assert isinstance(pdu, p.SmPdu)
        stats, rng, cfg = self.state.stats, self.state.rng, self.config
        if self.bound_as not in (CommandId.BIND_TRANSMITTER, CommandId.BIND_TRANSCEIVER):
            self._respond(pdu.sequence, Status.ESME_RINVBNDSTS, now)
            return
        stats.submits += 1
        self._submits_here += 1
        if cfg.drop_every and self._submits_here % cfg.drop_every == 0:
            stats.drops += 1
            self.should_close = True
            return
        roll = rng.random()
        if roll < cfg.throttle_rate + cfg.queue_full_rate:
            stats.throttled += 1
            full = roll >= cfg.throttle_rate
            self._respond(
                pdu.sequence, Status.ESME_RMSGQFUL if full else Status.ESME_RTHROTTLED, now
            )
            return
        if not pdu.destination_addr:
            self._respond(pdu.sequence, Status.ESME_RINVDSTADR, now)
            return
        self._accept(pdu, now)
        if rng.random() < cfg.malformed_rate:
            stats.malformed_sent += 1
            self._send_malformed()

    def _accept(self, pdu: p.SmPdu, now: float) -> None:
        stats, cfg = self.state.stats, self.config
        stats.accepted += 1
        if not self.state.remember(pdu):
            stats.duplicates += 1
            self.state.duplicated.append(pdu.destination_addr)
        message_id = format_id(self.state.next_message_id(), cfg.message_id_base)
        resp = p.encode(p.SmRespPdu(CommandId.SUBMIT_SM_RESP, pdu.sequence, 0, message_id))
        delay_s = self.state.rng.random() * cfg.max_response_delay_ms / 1000
        early = self.state.rng.random() < cfg.early_receipt_rate
        if early:
            self._schedule_receipt(pdu, message_id, now, delay_s=0.0)
            delay_s += 0.02
        self._later(now + delay_s, resp, None if early else (pdu, message_id))

    def _respond(self, sequence: int, status: int, now: float) -> None:
        resp = p.encode(p.SmRespPdu(CommandId.SUBMIT_SM_RESP, sequence, status))
        delay_s = self.state.rng.random() * self.config.max_response_delay_ms / 1000
        self._later(now + delay_s, resp, None)

    def _later(self, due: float, data: bytes, submit: tuple[p.SmPdu, str] | None) -> None:
        heapq.heappush(self._delayed, (due, next(self._sequence), data, submit))

    def _on_deliver_resp(self, pdu: p.Pdu, now: float) -> None:
        job = self._unacked.pop(pdu.sequence, None)
        if job is None:
            return
        if pdu.status != Status.ESME_ROK:
            self.state.queue(job, now + 1.0)
        elif job.esm_class & ESM_DELIVERY_RECEIPT:
            self.state.stats.receipts_acked += 1

    def _on_enquire_link(self, pdu: p.Pdu, now: float) -> None:
        self._send(p.EmptyPdu(CommandId.ENQUIRE_LINK_RESP, pdu.sequence))

    def _on_unbind(self, pdu: p.Pdu, now: float) -> None:
        self._send(p.EmptyPdu(CommandId.UNBIND_RESP, pdu.sequence))
        self.bound_as = None
        self.should_close = True

    def _on_nack(self, pdu: p.Pdu, now: float) -> None:
        self.state.stats.nacks_received += 1
        self._unacked.pop(pdu.sequence, None)

    # -- receipts and faults --------------------------------------------------------------------

    def _schedule_receipt(
        self, submit: p.SmPdu, message_id: str, now: float, delay_s: float
    ) -> None:
        cfg, rng = self.config, self.state.rng
        info, _ = split_udh(submit)
        if cfg.auto_reply and (info is None or info.index == 1):
            self.state.inject_mo(submit.destination_addr, submit.source_addr, cfg.auto_reply, now)
        if not submit.registered_delivery & 0x01:
            return
        roll = rng.random()
        stat = "UNDELIV" if roll < cfg.undeliverable_rate else "DELIVRD"
        if cfg.undeliverable_rate <= roll < cfg.undeliverable_rate + cfg.expired_rate:
            stat = "EXPIRED"
        self.state.stats.statuses[stat] += 1
        receipt = self._receipt_pdu(submit, message_id, stat, now)
        self.state.queue(receipt, now + delay_s)

    def _receipt_pdu(self, submit: p.SmPdu, message_id: str, stat: str, now: float) -> p.SmPdu:
        cfg = self.config
        base = cfg.receipt_id_base or cfg.message_id_base
        value = int(message_id, 16 if cfg.message_id_base is IdBase.HEX else 10)
        shown = format_id(value, base)
        date = time.strftime("%y%m%d%H%M", time.gmtime(now + self.state.wall_offset_s))
        err = "000" if stat == "DELIVRD" else "001"
        text = (f"id:{shown} sub:001 dlvrd:{'001' if stat == 'DELIVRD' else '000'} "
                f"submit date:{date} done date:{date} stat:{stat} err:{err} text:")  # fmt: skip
        tlvs: tuple[Tlv, ...] = ()
        if cfg.receipt_form is not ReceiptForm.TEXT:
            tlvs = (Tlv(Tag.RECEIPTED_MESSAGE_ID, shown.encode() + b"\x00"),
                    Tlv(Tag.MESSAGE_STATE, bytes((RECEIPT_STATES[stat],))))  # fmt: skip
        body = b"" if cfg.receipt_form is ReceiptForm.TLV else text.encode("ascii")
        return p.SmPdu(CommandId.DELIVER_SM, 1, submit.source_addr, body, submit.destination_addr,
                       1, 1, esm_class=ESM_DELIVERY_RECEIPT, tlvs=tlvs)  # fmt: skip

    def _deliver(self, job: p.SmPdu, now: float) -> None:
        sequence = next(self._sequence)
        self._unacked[sequence] = job
        if job.esm_class & ESM_DELIVERY_RECEIPT:
            self.state.stats.receipts_sent += 1
        else:
            self.state.stats.replies_sent += 1
        self._out += p.encode(_with_sequence(job, sequence))

    def _send_malformed(self) -> None:
        sequence = next(self._sequence)
        if self.state.rng.random() < 0.5:
            self._out += p.HEADER.pack(16, 0x00000099, 0, sequence)
        else:
            body = b"\x00\x01\x011234\x00"  # ends inside the mandatory fields
            self._out += p.HEADER.pack(16 + len(body), CommandId.DELIVER_SM, 0, sequence) + body

    def _send(self, pdu: p.Pdu) -> None:
        self._out += p.encode(pdu)


def _with_sequence(pdu: p.SmPdu, sequence: int) -> p.SmPdu:
    from dataclasses import replace

    return replace(pdu, sequence=sequence)
