"""Events an SMPP session core reports, as frozen dataclasses named in the past tense."""

from __future__ import annotations

from dataclasses import dataclass

from dialer.smpp.pdu import SmPdu


@dataclass(frozen=True, slots=True)
class BindSucceeded:
    system_id: str


@dataclass(frozen=True, slots=True)
class BindFailed:
    status: int


@dataclass(frozen=True, slots=True)
class SubmitAccepted:
    sequence: int
    message_id: str


@dataclass(frozen=True, slots=True)
class SubmitRejected:
    """The SMSC refused the submit for good (not a throttling status)."""

    sequence: int
    status: int


@dataclass(frozen=True, slots=True)
class SubmitThrottled:
    """ESME_RTHROTTLED or ESME_RMSGQFUL: the SMSC did not take it; submit again later."""

    sequence: int
    status: int


@dataclass(frozen=True, slots=True)
class SubmitTimedOut:
    """No response in time: the SMSC may or may not have taken the message."""

    sequence: int


@dataclass(frozen=True, slots=True)
class DeliverReceived:
    """A deliver_sm (receipt or inbound message); acknowledge it once it is safely recorded."""

    pdu: SmPdu


@dataclass(frozen=True, slots=True)
class MalformedPduReceived:
    command_id: int
    sequence: int
    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class UnexpectedResponseReceived:
    """A response whose sequence number we are not waiting for (late, or the peer's bug)."""

    command_id: int
    sequence: int
    status: int


@dataclass(frozen=True, slots=True)
class SessionClosed:
    """The session is over; `unresolved` are submits whose fate is unknown (sent, no response)."""

    reason: str
    unresolved: tuple[int, ...] = ()


Event = (
    BindSucceeded
    | BindFailed
    | SubmitAccepted
    | SubmitRejected
    | SubmitThrottled
    | SubmitTimedOut
    | DeliverReceived
    | MalformedPduReceived
    | UnexpectedResponseReceived
    | SessionClosed
)
