"""The sans-IO SMPP 3.4 ESME session: bind, window, sequence numbers, timers, enquire_link, unbind.

Feed it bytes (`receive_data`), the clock (`now`, seconds on any monotonic scale) and requests
(`bind`, `submit`, `acknowledge`, `unbind`); take bytes (`data_to_send`), events (`events`) and the
next deadline (`get_timer` / `handle_timer`). No sockets, no asyncio, no clock reads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, StrEnum

from dialer.smpp import events as ev
from dialer.smpp import pdu as p
from dialer.smpp.pdu import CommandId, Status


class LocalProtocolError(Exception):
    """We asked the session for something its state does not allow (a bug in the caller)."""


class BindMode(StrEnum):
    TRANSMITTER = "transmitter"
    RECEIVER = "receiver"
    TRANSCEIVER = "transceiver"


BIND_COMMAND = {
    BindMode.TRANSMITTER: CommandId.BIND_TRANSMITTER,
    BindMode.RECEIVER: CommandId.BIND_RECEIVER,
    BindMode.TRANSCEIVER: CommandId.BIND_TRANSCEIVER,
}


class State(Enum):
    OPEN = "open"
    BINDING = "binding"
    BOUND = "bound"
    UNBINDING = "unbinding"
    CLOSED = "closed"


class Trigger(Enum):
    BIND_SENT = "bind-sent"
    BIND_ACCEPTED = "bind-accepted"
    BIND_REFUSED = "bind-refused"
    UNBIND_SENT = "unbind-sent"
    UNBIND_ACKED = "unbind-acked"
    UNBIND_RECEIVED = "unbind-received"
    TIMED_OUT = "timed-out"
    FRAMING_LOST = "framing-lost"
    CONNECTION_LOST = "connection-lost"


_LIVE = (State.OPEN, State.BINDING, State.BOUND, State.UNBINDING)
TRANSITIONS: dict[tuple[State, Trigger], State] = {
    (State.OPEN, Trigger.BIND_SENT): State.BINDING,
    (State.BINDING, Trigger.BIND_ACCEPTED): State.BOUND,
    (State.BINDING, Trigger.BIND_REFUSED): State.CLOSED,
    (State.BOUND, Trigger.UNBIND_SENT): State.UNBINDING,
    (State.UNBINDING, Trigger.UNBIND_ACKED): State.CLOSED,
    **{(s, t): State.CLOSED for s in _LIVE for t in (Trigger.UNBIND_RECEIVED, Trigger.TIMED_OUT,
                                                     Trigger.FRAMING_LOST,
                                                     Trigger.CONNECTION_LOST)},
}  # fmt: skip

_BOUND_COMMON = {CommandId.ENQUIRE_LINK, CommandId.ENQUIRE_LINK_RESP, CommandId.GENERIC_NACK,
                 CommandId.UNBIND, CommandId.SUBMIT_SM_RESP, CommandId.DELIVER_SM}  # fmt: skip
ACCEPTS: dict[State, frozenset[CommandId]] = {
    State.OPEN: frozenset({CommandId.ENQUIRE_LINK}),
    State.BINDING: frozenset(
        {CommandId.BIND_RECEIVER_RESP, CommandId.BIND_TRANSMITTER_RESP,
         CommandId.BIND_TRANSCEIVER_RESP, CommandId.GENERIC_NACK, CommandId.ENQUIRE_LINK}
    ),
    State.BOUND: frozenset(_BOUND_COMMON),
    State.UNBINDING: frozenset(_BOUND_COMMON | {CommandId.UNBIND_RESP}),
    State.CLOSED: frozenset(),
}  # fmt: skip


@dataclass(frozen=True)
class SessionConfig:
    system_id: str
    password: str
    mode: BindMode = BindMode.TRANSCEIVER
    system_type: str = ""
    window: int = 50
    response_timeout_s: float = 10.0
    enquire_link_interval_s: float = 30.0


@dataclass(slots=True)
class _Pending:
    command_id: CommandId
    deadline: float


class Session:
    """One ESME connection's SMPP state (a new Session for each TCP connection)."""

    def __init__(self, config: SessionConfig, now: float) -> None:
        self.config = config
        self.state = State.OPEN
        self._out = bytearray()
        self._events: list[ev.Event] = []
        self._frames = p.FrameBuffer()
        self._pending: dict[int, _Pending] = {}
        self._submits = 0
        self._next_sequence = 1
        self._last_rx = now
        self._enquiring = False
        self._handlers: dict[CommandId, Callable[[p.Pdu, float], None]] = {
            CommandId.BIND_RECEIVER_RESP: self._on_bind_resp,
            CommandId.BIND_TRANSMITTER_RESP: self._on_bind_resp,
            CommandId.BIND_TRANSCEIVER_RESP: self._on_bind_resp,
            CommandId.SUBMIT_SM_RESP: self._on_submit_resp,
            CommandId.GENERIC_NACK: self._on_generic_nack,
            CommandId.DELIVER_SM: self._on_deliver,
            CommandId.ENQUIRE_LINK: self._on_enquire_link,
            CommandId.ENQUIRE_LINK_RESP: self._on_enquire_link_resp,
            CommandId.UNBIND: self._on_unbind,
            CommandId.UNBIND_RESP: self._on_unbind_resp,
        }

    # -- inputs from the application ------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self.state is State.CLOSED

    @property
    def window_free(self) -> int:
        """Submits that may be sent now (0 unless bound to send)."""
        if self.state is not State.BOUND or self.config.mode is BindMode.RECEIVER:
            return 0
        return self.config.window - self._submits

    @property
    def in_flight(self) -> tuple[int, ...]:
        """Sequence numbers of submits awaiting a response."""
        subs = self._pending.items()
        return tuple(s for s, x in subs if x.command_id is CommandId.SUBMIT_SM)

    def bind(self, now: float) -> None:
        self._move(Trigger.BIND_SENT)
        cfg = self.config
        command = BIND_COMMAND[cfg.mode]
        sequence = self._request(command, now)
        self._send(p.BindPdu(command, sequence, cfg.system_id, cfg.password, cfg.system_type))

    def submit(self, message: p.SmPdu, now: float) -> int:
        """Send a submit_sm (its sequence is assigned here); returns the sequence number."""
        if self.window_free <= 0:
            raise LocalProtocolError(f"no window for a submit in state {self.state.value}")
        sequence = self._request(CommandId.SUBMIT_SM, now)
        self._submits += 1
        self._send(dataclasses.replace(message, sequence=sequence))
        return sequence

    def acknowledge(self, sequence: int, status: int = Status.ESME_ROK) -> None:
        """Answer a deliver_sm once its content is recorded (a non-zero status asks for a retry)."""
        if self.state is not State.CLOSED:
            self._send(p.SmRespPdu(CommandId.DELIVER_SM_RESP, sequence, status))

    def unbind(self, now: float) -> None:
        self._move(Trigger.UNBIND_SENT)
        self._send(p.EmptyPdu(CommandId.UNBIND, self._request(CommandId.UNBIND, now)))

    def connection_lost(self, reason: str = "connection lost") -> None:
        if self.state is not State.CLOSED:
            self._close(Trigger.CONNECTION_LOST, reason)

    # -- outputs --------------------------------------------------------------------------------

    def data_to_send(self) -> bytes:
        data = bytes(self._out)
        self._out.clear()
        return data

    def events(self) -> list[ev.Event]:
        out, self._events = self._events, []
        return out

    def get_timer(self) -> float | None:
        """The next instant `handle_timer` must run, or None."""
        deadlines: list[float] = []
        if self._pending:
            deadlines.append(next(iter(self._pending.values())).deadline)
        if self.state is State.BOUND and not self._enquiring:
            deadlines.append(self._last_rx + self.config.enquire_link_interval_s)
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: float) -> None:
        while self._pending and self.state is not State.CLOSED:
            sequence, pending = next(iter(self._pending.items()))
            if pending.deadline > now:
                break
            del self._pending[sequence]
            self._on_timeout(sequence, pending.command_id)
        due = self._last_rx + self.config.enquire_link_interval_s
        if self.state is State.BOUND and not self._enquiring and now >= due:
            self._enquiring = True
            sequence = self._request(CommandId.ENQUIRE_LINK, now)
            self._send(p.EmptyPdu(CommandId.ENQUIRE_LINK, sequence))

    # -- input from the network -----------------------------------------------------------------

    def receive_data(self, data: bytes, now: float) -> None:
        if self.state is State.CLOSED:
            return
        self._last_rx = now
        for frame in self._frames.feed(data):
            self._receive_frame(frame, now)
            if self.closed:
                return
        if self._frames.desynchronised:
            header = self._frames.pending_header()
            seq = int.from_bytes(header[12:16], "big") if len(header) == p.HEADER_LEN else 0
            self._send(p.EmptyPdu(CommandId.GENERIC_NACK, seq or 1, Status.ESME_RINVCMDLEN))
            self._close(Trigger.FRAMING_LOST, "command_length out of range: framing lost")

    def _receive_frame(self, frame: bytes, now: float) -> None:
        pdu = p.decode(frame)
        if isinstance(pdu, p.MalformedPdu):
            self._on_malformed(pdu)
            return
        if pdu.command_id not in ACCEPTS[self.state]:
            self._refuse(pdu)
            return
        self._handlers[pdu.command_id](pdu, now)

    # -- handlers -------------------------------------------------------------------------------

    def _on_malformed(self, bad: p.MalformedPdu) -> None:
        self._events.append(ev.MalformedPduReceived(bad.command_id, bad.sequence, bad.status,
                                                    bad.reason))  # fmt: skip
        if not p.is_response(bad.command_id) and 0 < bad.sequence <= p.MAX_SEQUENCE:
            self._send(p.EmptyPdu(CommandId.GENERIC_NACK, bad.sequence, bad.status))

    def _refuse(self, pdu: p.Pdu) -> None:
        if p.is_response(pdu.command_id):
            self._events.append(ev.UnexpectedResponseReceived(pdu.command_id, pdu.sequence,
                                                              pdu.status))  # fmt: skip
        elif pdu.command_id is CommandId.DELIVER_SM:
            self._send(p.SmRespPdu(CommandId.DELIVER_SM_RESP, pdu.sequence, Status.ESME_RINVBNDSTS))
        else:
            status = Status.ESME_RINVBNDSTS if pdu.command_id in ACCEPTS[State.BOUND] else (
                Status.ESME_RINVCMDID)  # fmt: skip
            self._send(p.EmptyPdu(CommandId.GENERIC_NACK, pdu.sequence, status))

    def _on_bind_resp(self, pdu: p.Pdu, now: float) -> None:
        if self._pending.pop(pdu.sequence, None) is None:
            self._refuse(pdu)
        elif pdu.status == Status.ESME_ROK:
            self._move(Trigger.BIND_ACCEPTED)
            system_id = pdu.system_id if isinstance(pdu, p.BindRespPdu) else ""
            self._events.append(ev.BindSucceeded(system_id))
        else:
            self._events.append(ev.BindFailed(pdu.status))
            self._close(Trigger.BIND_REFUSED, f"bind refused: {p.status_name(pdu.status)}")

    def _on_submit_resp(self, pdu: p.Pdu, now: float) -> None:
        pending = self._pending.get(pdu.sequence)
        if pending is None or pending.command_id is not CommandId.SUBMIT_SM:
            self._refuse(pdu)
            return
        del self._pending[pdu.sequence]
        self._submits -= 1
        if pdu.status == Status.ESME_ROK:
            message_id = pdu.message_id if isinstance(pdu, p.SmRespPdu) else ""
            self._events.append(ev.SubmitAccepted(pdu.sequence, message_id))
        elif pdu.status in p.THROTTLING_STATUSES:
            self._events.append(ev.SubmitThrottled(pdu.sequence, pdu.status))
        else:
            self._events.append(ev.SubmitRejected(pdu.sequence, pdu.status))

    def _on_generic_nack(self, pdu: p.Pdu, now: float) -> None:
        pending = self._pending.get(pdu.sequence)
        if pending is None:
            self._refuse(pdu)
        elif pending.command_id is CommandId.SUBMIT_SM:
            self._on_submit_resp(p.SmRespPdu(CommandId.SUBMIT_SM_RESP, pdu.sequence,
                                             pdu.status or Status.ESME_RSYSERR), now)  # fmt: skip
        elif pending.command_id is CommandId.ENQUIRE_LINK:
            del self._pending[pdu.sequence]
            self._enquiring = False
        else:
            self._on_timeout(pdu.sequence, self._pending.pop(pdu.sequence).command_id)

    def _on_deliver(self, pdu: p.Pdu, now: float) -> None:
        if self.config.mode is BindMode.TRANSMITTER:
            self._refuse(pdu)
        else:
            assert isinstance(pdu, p.SmPdu)
            self._events.append(ev.DeliverReceived(pdu))

    def _on_enquire_link(self, pdu: p.Pdu, now: float) -> None:
        self._send(p.EmptyPdu(CommandId.ENQUIRE_LINK_RESP, pdu.sequence))

    def _on_enquire_link_resp(self, pdu: p.Pdu, now: float) -> None:
        if self._pending.pop(pdu.sequence, None) is None:
            self._refuse(pdu)
        self._enquiring = False

    def _on_unbind(self, pdu: p.Pdu, now: float) -> None:
        self._send(p.EmptyPdu(CommandId.UNBIND_RESP, pdu.sequence))
        self._close(Trigger.UNBIND_RECEIVED, "unbound by the SMSC")

    def _on_unbind_resp(self, pdu: p.Pdu, now: float) -> None:
        self._pending.pop(pdu.sequence, None)
        self._close(Trigger.UNBIND_ACKED, "unbound")

    def _on_timeout(self, sequence: int, command_id: CommandId) -> None:
        if command_id is CommandId.SUBMIT_SM:
            self._submits -= 1
            self._events.append(ev.SubmitTimedOut(sequence))
        else:
            self._close(Trigger.TIMED_OUT, f"no response to {command_id.name.lower()}")

    # -- plumbing -------------------------------------------------------------------------------

    def _move(self, trigger: Trigger) -> None:
        target = TRANSITIONS.get((self.state, trigger))
        if target is None:
            raise LocalProtocolError(f"{trigger.value} not allowed in state {self.state.value}")
        self.state = target

    def _close(self, trigger: Trigger, reason: str) -> None:
        unresolved = self.in_flight
        self._move(trigger)
        self._pending.clear()
        self._submits = 0
        self._events.append(ev.SessionClosed(reason, unresolved))

    def _request(self, command_id: CommandId, now: float) -> int:
        sequence = self._next_sequence
        while sequence in self._pending:
            sequence = sequence % p.MAX_SEQUENCE + 1
        self._next_sequence = sequence % p.MAX_SEQUENCE + 1
        self._pending[sequence] = _Pending(command_id, now + self.config.response_timeout_s)
        return sequence

    def _send(self, pdu: p.Pdu) -> None:
        self._out += p.encode(pdu)
