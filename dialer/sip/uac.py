"""The outbound call state machine (UAC side): INVITE, ring timer, CANCEL races, ACK, BYE, outcome.

The ring timer starts at the first 180/183 (`ring_timeout_s`); before any ringing a setup cap from
the INVITE (`setup_cap_s`) bounds calls that never ring. CANCEL goes out only once a provisional
response arrived (§9.1); a 2xx that crosses our CANCEL is ACKed and then ended with BYE.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum, auto
from typing import TYPE_CHECKING

from config.vocabulary import CallOutcome
from dialer.sip import digest
from dialer.sip.dialog import Dialog, target_of
from dialer.sip.events import CallAnswered, CallEnded, EarlyMediaStarted, HangupBy, RingingStarted
from dialer.sip.fields import parse_name_addr, q850_cause
from dialer.sip.message import Request, Response
from dialer.sip.outcome import outcome_for

if TYPE_CHECKING:
    from dialer.sip.agent import UserAgent


class State(Enum):
    CALLING = auto()
    EARLY = auto()
    CANCEL_PENDING = auto()  # we want to stop, but no provisional response yet (§9.1)
    CANCELLING = auto()
    ANSWERED = auto()
    ENDING = auto()
    ENDED = auto()


class Input(Enum):
    TRYING = auto()  # 100
    RINGING = auto()  # 101-199
    ANSWER = auto()  # 2xx (first or retransmitted)
    CHALLENGE = auto()  # 401/407 we can answer
    REJECT = auto()  # any other final response
    TX_TIMEOUT = auto()
    RING_TIMEOUT = auto()
    HANGUP = auto()
    BYE_RECEIVED = auto()
    BYE_DONE = auto()
    CANCEL_GUARD = auto()


S, In = State, Input
_STOP = ("stop_ring_timer",)
TABLE: dict[tuple[State, Input], tuple[State, tuple[str, ...]]] = {
    (S.CALLING, In.TRYING): (S.EARLY, ()),
    (S.CALLING, In.RINGING): (S.EARLY, ("start_ringing",)),
    (S.CALLING, In.ANSWER): (S.ANSWERED, (*_STOP, "confirm", "send_ack", "emit_answered")),
    (S.CALLING, In.CHALLENGE): (S.CALLING, ("resend_with_auth",)),
    (S.CALLING, In.REJECT): (S.ENDED, (*_STOP, "end_rejected")),
    (S.CALLING, In.TX_TIMEOUT): (S.ENDED, (*_STOP, "end_timeout")),
    (S.CALLING, In.RING_TIMEOUT): (S.CANCEL_PENDING, ()),
    (S.CALLING, In.HANGUP): (S.CANCEL_PENDING, ()),
    (S.EARLY, In.TRYING): (S.EARLY, ()),
    (S.EARLY, In.RINGING): (S.EARLY, ("start_ringing",)),
    (S.EARLY, In.ANSWER): (S.ANSWERED, (*_STOP, "confirm", "send_ack", "emit_answered")),
    (S.EARLY, In.CHALLENGE): (S.CALLING, ("resend_with_auth",)),
    (S.EARLY, In.REJECT): (S.ENDED, (*_STOP, "end_rejected")),
    (S.EARLY, In.TX_TIMEOUT): (S.ENDED, (*_STOP, "end_timeout")),
    (S.EARLY, In.RING_TIMEOUT): (S.CANCELLING, ("send_cancel",)),
    (S.EARLY, In.HANGUP): (S.CANCELLING, (*_STOP, "send_cancel")),
    (S.CANCEL_PENDING, In.TRYING): (S.CANCELLING, ("send_cancel",)),
    (S.CANCEL_PENDING, In.RINGING): (S.CANCELLING, ("send_cancel",)),
    (S.CANCEL_PENDING, In.ANSWER): (S.ENDING, ("crossed", "confirm", "send_ack", "send_bye")),
    (S.CANCEL_PENDING, In.CHALLENGE): (S.ENDED, ("end_cancelled",)),
    (S.CANCEL_PENDING, In.REJECT): (S.ENDED, ("end_cancelled",)),
    (S.CANCEL_PENDING, In.TX_TIMEOUT): (S.ENDED, ("end_timeout",)),
    (S.CANCEL_PENDING, In.RING_TIMEOUT): (S.CANCEL_PENDING, ()),
    (S.CANCEL_PENDING, In.HANGUP): (S.CANCEL_PENDING, ()),
    (S.CANCELLING, In.ANSWER): (S.ENDING, ("crossed", "confirm", "send_ack", "send_bye")),
    (S.CANCELLING, In.CHALLENGE): (S.ENDED, ("end_cancelled",)),
    (S.CANCELLING, In.REJECT): (S.ENDED, ("end_cancelled",)),
    (S.CANCELLING, In.TX_TIMEOUT): (S.ENDED, ("end_cancelled",)),
    (S.CANCELLING, In.CANCEL_GUARD): (S.ENDED, ("end_cancelled",)),
    (S.ANSWERED, In.ANSWER): (S.ANSWERED, ("send_ack",)),
    (S.ANSWERED, In.HANGUP): (S.ENDING, ("send_bye",)),
    (S.ANSWERED, In.BYE_RECEIVED): (S.ENDED, ("end_by_them",)),
    (S.ENDING, In.ANSWER): (S.ENDING, ("send_ack",)),
    (S.ENDING, In.BYE_DONE): (S.ENDED, ("end_by_us",)),
    (S.ENDING, In.BYE_RECEIVED): (S.ENDED, ("end_by_us",)),
    (S.ENDED, In.ANSWER): (S.ENDED, ("send_ack",)),
}


@dataclass(frozen=True, slots=True)
class CallRequest:
    """What to dial: URIs and From/To values (without tags), timers and extra headers."""

    request_uri: str
    from_value: str
    to_value: str
    ring_timeout_s: float
    setup_cap_s: float
    sdp_offer: bytes
    headers: tuple[tuple[str, str], ...] = ()
    max_auth_attempts: int = 2


class OutboundCall:
    """One outbound call; the user agent feeds it responses, timers and in-dialog requests."""

    def __init__(self, agent: UserAgent, request: CallRequest, dialog: Dialog, now: float):
        self.agent = agent
        self.spec = request
        self.dialog = dialog
        self.state = State.CALLING
        self.invite_at = now
        self.ring_at: float | None = None
        self.answer_at: float | None = None
        self.stopped_by: Input | None = None  # RING_TIMEOUT or HANGUP: why we cancel
        self.crossed_cancel = False
        self.auth_attempts = 0
        self.ack: bytes | None = None
        self._invite: Request | None = None
        self._branch = ""
        self._response: Response | None = None
        self._ring_token: int | None = None
        self.ended: CallEnded | None = None
        self._early_media = False
        self._bye_cause: int | None = None

    @property
    def call_id(self) -> str:
        return self.dialog.call_id

    def start(self, now: float, auth: Iterable[tuple[str, str]] = ()) -> None:
        body = self.spec.sdp_offer
        extra = (*self.spec.headers, *auth)
        cseq = self.dialog.local_cseq
        request, branch = self.dialog.request(
            self.agent.endpoint, "INVITE", cseq=cseq, body=body, extra=extra
        )
        request.uri = self.spec.request_uri
        self._invite, self._branch = request, branch
        self.agent.start_client(
            request, branch, self.dialog.peer, self._on_response, self._on_timeout, now
        )
        if self._ring_token is None and self.ring_at is None:
            self._arm_ring_timer(now + self.spec.setup_cap_s)

    def feed(self, event: Input, now: float) -> None:
        step = TABLE.get((self.state, event))
        if step is None:
            return
        if event in (In.RING_TIMEOUT, In.HANGUP) and self.stopped_by is None:
            self.stopped_by = event
        self.state, actions = step
        for action in actions:
            getattr(self, action)(now)

    def hangup(self, now: float) -> None:
        self.feed(In.HANGUP, now)

    # inputs from the agent
    def _on_response(self, response: Response, now: float) -> None:
        self._response = response
        status = response.status
        if 200 <= status < 300 and self._is_fork(response):
            self.agent.end_forked_dialog(self, response, now)
            return
        if status == 100:
            self.feed(In.TRYING, now)
        elif status < 200:
            self.feed(In.RINGING, now)
        elif status < 300:
            self.feed(In.ANSWER, now)
        elif status in (401, 407) and self._can_authenticate(response):
            self.feed(In.CHALLENGE, now)
        else:
            self.feed(In.REJECT, now)

    def on_stray_success(self, response: Response, now: float) -> None:
        """A 2xx retransmission after the INVITE transaction ended (RFC 6026 §7.2)."""
        self._on_response(response, now)

    def _on_timeout(self, now: float) -> None:
        self._response = None
        self.feed(In.TX_TIMEOUT, now)

    def on_bye(self, request: Request, now: float) -> bool:
        """A BYE from the far end: True if it belongs to this dialog's answered call."""
        self.feed(In.BYE_RECEIVED, now)
        return self.state == S.ENDED

    def _is_fork(self, response: Response) -> bool:
        to = parse_name_addr(response.headers.get("to") or "")
        tag = to.tag if to else None
        known = self.dialog.remote_tag
        return known is not None and tag is not None and tag != known and self.answer_at is not None

    def _can_authenticate(self, response: Response) -> bool:
        creds = self.agent.credentials
        return creds is not None and self.auth_attempts < self.spec.max_auth_attempts

    # actions named in TABLE
    def start_ringing(self, now: float) -> None:
        assert self._response is not None
        sdp = self._response.body
        if self.ring_at is None:
            self.ring_at = now
            self._arm_ring_timer(now + self.spec.ring_timeout_s)
            self.agent.emit(RingingStarted(self.call_id, now, self._response.status))
        if sdp and not self._early_media:
            self._early_media = True
            self.agent.emit(EarlyMediaStarted(self.call_id, now, sdp))

    def _arm_ring_timer(self, deadline: float) -> None:
        self.stop_ring_timer(0.0)
        self._ring_token = self.agent.schedule(deadline, lambda t: self.feed(In.RING_TIMEOUT, t))

    def stop_ring_timer(self, now: float) -> None:
        if self._ring_token is not None:
            self.agent.cancel(self._ring_token)
            self._ring_token = None

    def confirm(self, now: float) -> None:
        assert self._response is not None
        headers = self._response.headers
        to = parse_name_addr(headers.get("to") or "")
        self.dialog.remote_tag = to.tag if to else None
        self.dialog.remote_target = target_of(headers.get("contact"), self.dialog.remote_target)
        self.dialog.route_set = list(reversed(headers.get_all("record-route")))
        self.answer_at = now

    def send_ack(self, now: float) -> None:
        if self.ack is None:
            cseq = int(self._invite_cseq())
            ack, _ = self.dialog.request(self.agent.endpoint, "ACK", cseq=cseq)
            self.ack = ack.to_bytes()
        self.agent.send(self.ack, self.dialog.peer)

    def _invite_cseq(self) -> str:
        assert self._invite is not None
        return (self._invite.headers.get("cseq") or "1").split(" ")[0]

    def emit_answered(self, now: float) -> None:
        assert self._response is not None
        self.agent.emit(CallAnswered(self.call_id, now, self._response.body))

    def send_cancel(self, now: float) -> None:
        assert self._invite is not None
        src = self._invite.headers
        cancel = Request("CANCEL", self._invite.uri)
        for name in ("via", "max-forwards"):
            cancel.headers.add(name, src.get(name) or "")
        for route in src.lines("route"):
            cancel.headers.add("route", route)
        for name in ("from", "to", "call-id"):
            cancel.headers.add(name, src.get(name) or "")
        cancel.headers.add("cseq", f"{self._invite_cseq()} CANCEL")
        if self.stopped_by == In.RING_TIMEOUT:
            cancel.headers.add("reason", 'Q.850;cause=19;text="No answer"')
        self.agent.start_client(
            cancel, self._branch, self.dialog.peer, lambda r, t: None, lambda t: None, now
        )
        guard = now + self.agent.timers.timeout_s
        self.agent.schedule(guard, lambda t: self.feed(In.CANCEL_GUARD, t))

    def crossed(self, now: float) -> None:
        self.crossed_cancel = True

    def send_bye(self, now: float) -> None:
        self.agent.send_bye(self.dialog, lambda at: self.feed(In.BYE_DONE, at), now)

    def resend_with_auth(self, now: float) -> None:
        assert self._response is not None and self.agent.credentials is not None
        response = self._response
        header = "www-authenticate" if response.status == 401 else "proxy-authenticate"
        challenge = digest.best_challenge(response.headers.lines(header))
        if challenge is None:
            self.state = S.ENDED
            self.end_rejected(now)
            return
        self.auth_attempts += 1
        user, password = self.agent.credentials
        value = digest.authorization(
            challenge, username=user, password=password, method="INVITE", uri=self.spec.request_uri
        )
        name = "authorization" if response.status == 401 else "proxy-authorization"
        self.dialog.local_cseq += 1
        self.start(now, auth=((name, value),))

    # endings
    def end_rejected(self, now: float) -> None:
        assert self._response is not None
        cause = q850_cause(self._response.headers.get_all("reason"))
        outcome = outcome_for(self._response.status, cause)
        self._finish(now, outcome, self._response.status, HangupBy.NETWORK, cause)

    def end_timeout(self, now: float) -> None:
        self._finish(now, CallOutcome.FAILED, 408, HangupBy.NETWORK, None, "no final response")

    def end_cancelled(self, now: float) -> None:
        response = self._response
        code = response.status if response is not None and response.status >= 300 else None
        cause = q850_cause(response.headers.get_all("reason")) if response is not None else None
        if code not in (None, 487):
            outcome = outcome_for(code, cause)
            self._finish(now, outcome, code, HangupBy.NETWORK, cause)
            return
        self._finish(now, self._cancel_outcome(), code, HangupBy.US, cause)

    def _cancel_outcome(self) -> CallOutcome:
        if self.stopped_by == In.HANGUP:
            return CallOutcome.INTERRUPTED
        return CallOutcome.NO_ANSWER if self.ring_at is not None else CallOutcome.FAILED

    def end_by_them(self, now: float) -> None:
        self._finish(now, CallOutcome.ANSWERED, 200, HangupBy.THEM, self._bye_cause)

    def end_by_us(self, now: float) -> None:
        if self.crossed_cancel:
            self._finish(now, self._cancel_outcome(), 200, HangupBy.US, None, "2xx crossed CANCEL")
            return
        self._finish(now, CallOutcome.ANSWERED, 200, HangupBy.US, None)

    def set_bye_cause(self, request: Request) -> None:
        self._bye_cause = q850_cause(request.headers.get_all("reason"))

    def _finish(
        self,
        now: float,
        outcome: CallOutcome,
        code: int | None,
        by: HangupBy,
        cause: int | None,
        reason: str = "",
    ) -> None:
        self.stop_ring_timer(now)
        if self.ended is not None:
            return
        ring_end = self.answer_at if self.answer_at is not None else now
        ring_s = ring_end - self.ring_at if self.ring_at is not None else 0.0
        talk_s = (
            now - self.answer_at if self.answer_at is not None and not self.crossed_cancel else 0.0
        )
        if not reason and self._response is not None and code == self._response.status:
            reason = f"{code} {self._response.reason}"
        self.ended = CallEnded(
            self.call_id, now, outcome, code, reason, by, cause, ring_s, talk_s, self.crossed_cancel
        )
        self.agent.emit(self.ended)
        self.agent.call_finished(self, now)
