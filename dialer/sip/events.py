"""Events the SIP user agent core reports, as frozen dataclasses named in the past tense.

Times (`at`) are the core's clock: whatever monotonic seconds the adapter passes in as `now`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from config.vocabulary import CallOutcome
from dialer.sip.message import Request


class HangupBy(StrEnum):
    """Who ended a call."""

    US = "us"
    THEM = "them"
    NETWORK = "network"  # a final error response or a timeout: nobody hung up an answered call


@dataclass(frozen=True, slots=True)
class RingingStarted:
    """The first 180/183 of an outbound call: the ring timer starts here."""

    call_id: str
    at: float
    sip_code: int


@dataclass(frozen=True, slots=True)
class EarlyMediaStarted:
    """A 183 (or 180) carried SDP: the far end plays tones or announcements."""

    call_id: str
    at: float
    sdp: bytes


@dataclass(frozen=True, slots=True)
class CallAnswered:
    """A 2xx established the dialog (ACK sent)."""

    call_id: str
    at: float
    sdp: bytes


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The call is over; `outcome` is the glossary's, `sip_code` the final code we saw."""

    call_id: str
    at: float
    outcome: CallOutcome
    sip_code: int | None
    reason: str
    hangup_by: HangupBy
    q850_cause: int | None
    ring_s: float
    talk_s: float
    crossed_cancel: bool = False  # a 2xx crossed our CANCEL: answered, then ended by our BYE


@dataclass(frozen=True, slots=True)
class CallOffered:
    """An INVITE arrived (server side): the application rings, answers or rejects it."""

    call_id: str
    at: float
    request: Request
    sdp: bytes


@dataclass(frozen=True, slots=True)
class CallConfirmed:
    """The ACK for our 2xx arrived (server side)."""

    call_id: str
    at: float


@dataclass(frozen=True, slots=True)
class OptionsAnswered:
    """An OPTIONS keep-alive got a final response (any code means the peer is alive)."""

    at: float
    sip_code: int
    rtt_s: float


@dataclass(frozen=True, slots=True)
class RegistrationFinished:
    """A REGISTER got its final response; `expires_s` is what the registrar granted."""

    at: float
    sip_code: int
    expires_s: int


@dataclass(frozen=True, slots=True)
class TransactionTimedOut:
    """A client transaction got no final response (Timer B or F fired)."""

    at: float
    method: str
    call_id: str


@dataclass(frozen=True, slots=True)
class MessageDiscarded:
    """Input we could not use: a parse error or a stray message (counted, never raised)."""

    at: float
    reason: str
    peer: tuple[str, int]


Event = (
    RingingStarted
    | EarlyMediaStarted
    | CallAnswered
    | CallEnded
    | CallOffered
    | CallConfirmed
    | OptionsAnswered
    | RegistrationFinished
    | TransactionTimedOut
    | MessageDiscarded
)
