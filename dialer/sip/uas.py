"""The inbound call state machine (UAS side): ring, answer or reject, 2xx until ACK, CANCEL, BYE.

The carrier simulator and the tests' far end are built on it; the engine itself only dials out.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum, auto
from typing import TYPE_CHECKING

from config.vocabulary import CallOutcome
from dialer.sip.dialog import Dialog, SuccessRetransmitter, make_response
from dialer.sip.events import CallConfirmed, CallEnded, HangupBy
from dialer.sip.fields import q850_cause
from dialer.sip.invite_server import InviteServerTransaction
from dialer.sip.message import Request, Response
from dialer.sip.outcome import outcome_for

if TYPE_CHECKING:
    from dialer.sip.agent import UserAgent


class State(Enum):
    OFFERED = auto()
    EARLY = auto()
    ANSWERED = auto()  # 2xx sent, no ACK yet
    HANGUP_PENDING = auto()  # the application hung up before the ACK came
    CONFIRMED = auto()
    ENDING = auto()
    ENDED = auto()


class Input(Enum):
    RING = auto()
    ANSWER = auto()
    REJECT = auto()
    ACK = auto()
    CANCEL = auto()
    BYE_RECEIVED = auto()
    HANGUP = auto()
    BYE_DONE = auto()
    NO_ACK = auto()


S, In = State, Input
TABLE: dict[tuple[State, Input], tuple[State, tuple[str, ...]]] = {
    (S.OFFERED, In.RING): (S.EARLY, ("send_pending",)),
    (S.OFFERED, In.ANSWER): (S.ANSWERED, ("send_success",)),
    (S.OFFERED, In.REJECT): (S.ENDED, ("send_pending", "end_rejected")),
    (S.OFFERED, In.CANCEL): (S.ENDED, ("send_487", "end_cancelled")),
    (S.OFFERED, In.HANGUP): (S.ENDED, ("send_487", "end_cancelled")),
    (S.EARLY, In.RING): (S.EARLY, ("send_pending",)),
    (S.EARLY, In.ANSWER): (S.ANSWERED, ("send_success",)),
    (S.EARLY, In.REJECT): (S.ENDED, ("send_pending", "end_rejected")),
    (S.EARLY, In.CANCEL): (S.ENDED, ("send_487", "end_cancelled")),
    (S.EARLY, In.HANGUP): (S.ENDED, ("send_487", "end_cancelled")),
    (S.ANSWERED, In.ACK): (S.CONFIRMED, ("stop_retransmit", "emit_confirmed")),
    (S.ANSWERED, In.BYE_RECEIVED): (S.ENDED, ("stop_retransmit", "end_by_them")),
    (S.ANSWERED, In.HANGUP): (S.HANGUP_PENDING, ()),
    (S.ANSWERED, In.NO_ACK): (S.ENDING, ("send_bye",)),
    (S.HANGUP_PENDING, In.ACK): (S.ENDING, ("stop_retransmit", "send_bye")),
    (S.HANGUP_PENDING, In.NO_ACK): (S.ENDING, ("send_bye",)),
    (S.HANGUP_PENDING, In.BYE_RECEIVED): (S.ENDED, ("stop_retransmit", "end_by_them")),
    (S.CONFIRMED, In.HANGUP): (S.ENDING, ("send_bye",)),
    (S.CONFIRMED, In.BYE_RECEIVED): (S.ENDED, ("end_by_them",)),
    (S.ENDING, In.BYE_DONE): (S.ENDED, ("end_by_us",)),
    (S.ENDING, In.BYE_RECEIVED): (S.ENDED, ("end_by_us",)),
}


class InboundCall:
    """One received INVITE and the dialog it may create."""

    def __init__(
        self, agent: UserAgent, invite: Request, ist: InviteServerTransaction, dialog: Dialog
    ):
        self.agent = agent
        self.invite = invite
        self.ist = ist
        self.dialog = dialog
        self.state = State.OFFERED
        self.offered_at = 0.0
        self.answer_at: float | None = None
        self._pending: Response | None = None
        self._retransmitter: SuccessRetransmitter | None = None
        self._bye_cause: int | None = None
        self.ended: CallEnded | None = None
        self.answer_sdp = b""

    @property
    def call_id(self) -> str:
        return self.dialog.call_id

    def feed(self, event: Input, now: float) -> bool:
        step = TABLE.get((self.state, event))
        if step is None:
            return False
        self.state, actions = step
        for action in actions:
            getattr(self, action)(now)
        return True

    # the application's verbs
    def ring(self, now: float, status: int = 180, sdp: bytes = b"") -> None:
        self._pending = self._response(status, sdp)
        self.feed(In.RING, now)

    def answer(self, now: float, sdp: bytes, extra: Iterable[tuple[str, str]] = ()) -> None:
        self._pending = self._response(200, sdp, extra)
        self.answer_sdp = sdp
        self.feed(In.ANSWER, now)

    def reject(self, now: float, status: int, extra: Iterable[tuple[str, str]] = ()) -> None:
        self._pending = self._response(status, b"", extra)
        self.feed(In.REJECT, now)

    def hangup(self, now: float) -> None:
        self.feed(In.HANGUP, now)

    def _response(self, status: int, sdp: bytes, extra: Iterable[tuple[str, str]] = ()) -> Response:
        contact = self.agent.endpoint.contact if status < 300 else None
        return make_response(
            self.invite,
            status,
            to_tag=self.dialog.local_tag,
            contact=contact,
            body=sdp,
            extra=extra,
        )

    # inputs from the agent
    def on_cancel(self, now: float) -> None:
        self.feed(In.CANCEL, now)

    def on_ack(self, now: float) -> None:
        self.feed(In.ACK, now)

    def on_bye(self, request: Request, now: float) -> bool:
        self._bye_cause = q850_cause(request.headers.get_all("reason"))
        return self.feed(In.BYE_RECEIVED, now)

    # actions named in TABLE
    def send_pending(self, now: float) -> None:
        assert self._pending is not None
        self.ist.respond(self._pending, now)

    def send_success(self, now: float) -> None:
        assert self._pending is not None
        self.answer_at = now
        self.ist.respond(self._pending, now)
        self._retransmitter = SuccessRetransmitter(
            self.agent,
            self._pending.to_bytes(),
            self.ist.peer,
            self.agent.reliable,
            self._no_ack,
        )
        self._retransmitter.start(now)

    def _no_ack(self, now: float) -> None:
        self._retransmitter = None
        self.feed(In.NO_ACK, now)

    def stop_retransmit(self, now: float) -> None:
        if self._retransmitter is not None:
            self._retransmitter.stop()
            self._retransmitter = None  # it holds a bound method of ours: no cycle left behind

    def emit_confirmed(self, now: float) -> None:
        self.agent.emit(CallConfirmed(self.call_id, now))

    def send_487(self, now: float) -> None:
        self.ist.respond(self._response(487, b""), now)

    def send_bye(self, now: float) -> None:
        self.agent.send_bye(self.dialog, lambda at: self.feed(In.BYE_DONE, at), now)

    # endings
    def end_rejected(self, now: float) -> None:
        assert self._pending is not None
        code = self._pending.status
        cause = q850_cause(self._pending.headers.get_all("reason"))
        self._finish(now, outcome_for(code, cause), code, HangupBy.US, cause)

    def end_cancelled(self, now: float) -> None:
        self._finish(now, CallOutcome.NO_ANSWER, 487, HangupBy.THEM, None)

    def end_by_them(self, now: float) -> None:
        self._finish(now, CallOutcome.ANSWERED, 200, HangupBy.THEM, self._bye_cause)

    def end_by_us(self, now: float) -> None:
        self._finish(now, CallOutcome.ANSWERED, 200, HangupBy.US, None)

    def _finish(
        self, now: float, outcome: CallOutcome, code: int, by: HangupBy, cause: int | None
    ) -> None:
        if self.ended is not None:
            return
        talk_s = now - self.answer_at if self.answer_at is not None else 0.0
        ring_end = self.answer_at if self.answer_at is not None else now
        self.ended = CallEnded(
            self.call_id, now, outcome, code, "", by, cause, ring_end - self.offered_at, talk_s
        )
        self.agent.emit(self.ended)
        self.agent.call_finished(self, now)
