"""The SIP user agent core: routes messages to transactions and calls, owns the timers (sans-IO).

Drive it like aioquic's connection: `receive(data, peer, now)`, then send `datagrams_to_send(now)`,
read `next_event()` until None, and re-arm a timer at `next_deadline()` that calls
`handle_timer(now)`. It never reads the clock, never touches a socket and never raises on input.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from dialer.sip import digest
from dialer.sip.dialog import (
    ALLOW,
    Dialog,
    LocalEndpoint,
    SuccessRetransmitter,
    make_response,
    target_of,
)
from dialer.sip.events import (
    CallOffered,
    Event,
    MessageDiscarded,
    OptionsAnswered,
    RegistrationFinished,
    TransactionTimedOut,
)
from dialer.sip.fields import decimal, new_call_id, new_tag, parse_cseq, parse_name_addr, parse_via
from dialer.sip.invite_client import InviteClientTransaction
from dialer.sip.invite_server import InviteServerTransaction
from dialer.sip.message import Message, ParseError, Request, Response, parse_message
from dialer.sip.noninvite_client import NonInviteClientTransaction
from dialer.sip.noninvite_server import NonInviteServerTransaction
from dialer.sip.sdp import build_answer, build_offer, parse_sdp
from dialer.sip.timers import TimerCallback, TimerConfig, TimerQueue
from dialer.sip.transaction import Peer, Transaction
from dialer.sip.uac import CallRequest, OutboundCall
from dialer.sip.uas import InboundCall

Call = OutboundCall | InboundCall
ClientTxn = InviteClientTransaction | NonInviteClientTransaction
ServerTxn = InviteServerTransaction | NonInviteServerTransaction


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """One user agent: its wire identity, timers, credentials, and whether it takes calls."""

    endpoint: LocalEndpoint
    reliable: bool = False
    timers: TimerConfig = field(default_factory=TimerConfig)
    credentials: tuple[str, str] | None = None
    accept_calls: bool = False


def without_tag(value: str) -> str:
    parsed = parse_name_addr(value)
    if parsed is None:
        return value
    params = {k: v for k, v in parsed.params.items() if k != "tag"}
    return str(type(parsed)(parsed.uri, parsed.display, params))


class UserAgent:
    """Transactions, calls and timers of one SIP endpoint (client and optionally server)."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.endpoint = config.endpoint
        self.timers = config.timers
        self.reliable = config.reliable
        self.credentials = config.credentials
        self.calls: dict[str, Call] = {}
        self.stats: dict[str, int] = {}
        self.live_calls = 0
        self._client: dict[tuple[str, str], ClientTxn] = {}
        self._server: dict[tuple[str, str], ServerTxn] = {}
        self._queue = TimerQueue()
        self._outbox: list[tuple[bytes, Peer]] = []
        self._events: deque[Event] = deque()
        self._reinvite_rtx: dict[str, SuccessRetransmitter] = {}

    # TransactionHost port
    def send(self, data: bytes, peer: Peer) -> None:
        self._outbox.append((data, peer))

    def schedule(self, deadline: float, callback: TimerCallback) -> int:
        return self._queue.schedule(deadline, callback)

    def cancel(self, token: int) -> None:
        self._queue.cancel(token)

    def forget(self, transaction: Transaction) -> None:
        table: dict[Any, Any] = self._client if transaction.key in self._client else self._server
        if table.get(transaction.key) is transaction:
            del table[transaction.key]

    def note(self, counter: str) -> None:
        self.stats[counter] = self.stats.get(counter, 0) + 1

    def emit(self, event: Event) -> None:
        self._events.append(event)

    # the driving API
    def datagrams_to_send(self, now: float) -> list[tuple[bytes, Peer]]:
        out, self._outbox = self._outbox, []
        return out

    def next_event(self) -> Event | None:
        return self._events.popleft() if self._events else None

    def next_deadline(self) -> float | None:
        return self._queue.next_deadline()

    def handle_timer(self, now: float) -> None:
        self._queue.fire_due(now)

    def receive(self, data: bytes, peer: Peer, now: float) -> None:
        """Feed one datagram (or one framed stream message)."""
        self.receive_message(parse_message(data, stream=self.reliable), peer, now)

    def receive_message(self, message: Message | ParseError, peer: Peer, now: float) -> None:
        if isinstance(message, ParseError):
            self.note("parse_errors")
            self.emit(MessageDiscarded(now, message.reason, peer))
            return
        via = parse_via((message.headers.get_all("via") or [""])[0])
        if via is None:
            self.note("parse_errors")
            self.emit(MessageDiscarded(now, "unreadable Via", peer))
        elif isinstance(message, Response):
            self._on_response(message, via.branch or "", now)
        else:
            self._on_request(message, via.branch or _legacy_key(message), peer, now)

    # client side
    def start_client(
        self,
        request: Request,
        branch: str,
        peer: Peer,
        on_response: Callable[[Response, float], None],
        on_timeout: Callable[[float], None],
        now: float,
    ) -> None:
        txn: ClientTxn
        kind = InviteClientTransaction if request.method == "INVITE" else NonInviteClientTransaction
        timeout = self._timeout_reporter(request, on_timeout)
        txn = kind(self, request, branch, peer, self.reliable, on_response, timeout)
        self._client[txn.key] = txn
        txn.start(now)

    def send_bye(self, dialog: Dialog, on_done: Callable[[float], object], now: float) -> None:
        """End a dialog with a BYE; `on_done` runs on its final response or its timeout."""
        bye, branch = dialog.request(self.endpoint, "BYE")

        def answered(response: Response, at: float) -> None:
            if response.status >= 200:
                on_done(at)

        def timed_out(at: float) -> None:
            on_done(at)

        self.start_client(bye, branch, dialog.peer, answered, timed_out, now)

    def _timeout_reporter(
        self, request: Request, on_timeout: Callable[[float], None]
    ) -> Callable[[float], None]:
        def report(now: float) -> None:
            call_id = request.headers.get("call-id") or ""
            self.note(f"timeouts_{request.method}")
            self.emit(TransactionTimedOut(now, request.method, call_id))
            on_timeout(now)

        return report

    def invite(self, peer: Peer, spec: CallRequest, now: float) -> OutboundCall:
        """Place a call: returns the call object; its events come out of `next_event()`."""
        call_id = new_call_id(self.endpoint.host)
        dialog = Dialog(call_id, new_tag(), spec.from_value, spec.to_value, spec.request_uri, peer)
        call = OutboundCall(self, spec, dialog, now)
        self.calls[call_id] = call
        self.live_calls += 1
        call.start(now)
        return call

    def hangup(self, call_id: str, now: float) -> None:
        call = self.calls.get(call_id)
        if call is not None:
            call.hangup(now)

    def call_finished(self, call: Call, now: float) -> None:
        """An ended call leaves the table: its transactions absorb any late retransmission."""
        self.live_calls -= 1
        if self.calls.get(call.call_id) is call:
            del self.calls[call.call_id]

    def end_forked_dialog(self, call: OutboundCall, response: Response, now: float) -> None:
        """A 2xx from a second fork (RFC 3261 §13.2.2.4): ACK it, then BYE it."""
        to = response.headers.get("to") or ""
        tag = parse_name_addr(to)
        fork = Dialog(
            call.call_id,
            call.dialog.local_tag,
            call.dialog.local,
            call.dialog.remote,
            target_of(response.headers.get("contact"), call.dialog.remote_target),
            call.dialog.peer,
            tag.tag if tag else None,
        )
        fork.local_cseq = call.dialog.local_cseq
        parsed_cseq = parse_cseq(response.headers.get("cseq") or "")
        cseq = parsed_cseq[0] if parsed_cseq else call.dialog.local_cseq
        ack, _ = fork.request(self.endpoint, "ACK", cseq=cseq)
        self.send(ack.to_bytes(), fork.peer)
        bye, branch = fork.request(self.endpoint, "BYE")
        self.start_client(bye, branch, fork.peer, lambda r, t: None, lambda t: None, now)
        self.note("forks_ended")

    def options(self, peer: Peer, uri: str, now: float) -> None:
        """An OPTIONS keep-alive; its answer arrives as `OptionsAnswered`."""
        request, branch = self._out_of_dialog("OPTIONS", uri, uri, (("accept", "application/sdp"),))

        def answered(response: Response, t: float) -> None:
            if response.status >= 200:
                self.emit(OptionsAnswered(t, response.status, t - now))

        self.start_client(request, branch, peer, answered, lambda t: None, now)

    def register(self, peer: Peer, registrar: str, aor: str, expires_s: int, now: float) -> None:
        """REGISTER our Contact for `aor`, answering one digest challenge if we have credentials."""
        extra = (("contact", self.endpoint.contact), ("expires", str(expires_s)))
        call_id = new_call_id(self.endpoint.host)
        self._register_step(peer, registrar, aor, extra, call_id, 1, None, now)

    def _register_step(
        self,
        peer: Peer,
        registrar: str,
        aor: str,
        extra: tuple[tuple[str, str], ...],
        call_id: str,
        cseq: int,
        auth: tuple[str, str] | None,
        now: float,
    ) -> None:
        headers = extra if auth is None else (*extra, auth)
        request, branch = self._out_of_dialog("REGISTER", registrar, aor, headers, call_id, cseq)

        def answered(response: Response, t: float) -> None:
            if response.status < 200:
                return
            retry = self._register_retry(response, registrar) if auth is None else None
            if retry is not None:
                self._register_step(peer, registrar, aor, extra, call_id, cseq + 1, retry, t)
                return
            self.emit(RegistrationFinished(t, response.status, _granted_expiry(response)))

        self.start_client(request, branch, peer, answered, lambda t: None, now)

    def _register_retry(self, response: Response, uri: str) -> tuple[str, str] | None:
        if response.status not in (401, 407) or self.credentials is None:
            return None
        header = "www-authenticate" if response.status == 401 else "proxy-authenticate"
        challenge = digest.best_challenge(response.headers.lines(header))
        if challenge is None:
            return None
        user, password = self.credentials
        value = digest.authorization(
            challenge, username=user, password=password, method="REGISTER", uri=uri
        )
        return ("authorization" if response.status == 401 else "proxy-authorization", value)

    def _out_of_dialog(
        self,
        method: str,
        uri: str,
        to: str,
        extra: Iterable[tuple[str, str]] = (),
        call_id: str | None = None,
        cseq: int = 1,
    ) -> tuple[Request, str]:
        local = f"<sip:{self.endpoint.contact_user}@{self.endpoint.host}>"
        dialog = Dialog(
            call_id or new_call_id(self.endpoint.host),
            new_tag(),
            local,
            f"<{to}>",
            uri,
            ("", 0),
            local_cseq=cseq,
        )
        return dialog.request(self.endpoint, method, cseq=cseq, extra=extra)

    def _on_response(self, response: Response, branch: str, now: float) -> None:
        method = (response.headers.get("cseq") or "").partition(" ")[2].strip()
        txn = self._client.get((branch, method))
        if txn is not None:
            txn.receive_response(response, now)
            return
        call = self.calls.get(response.headers.get("call-id") or "")
        if method == "INVITE" and 200 <= response.status < 300 and isinstance(call, OutboundCall):
            call.on_stray_success(response, now)
            return
        self.note("stray_responses")

    # server side
    def _on_request(self, request: Request, branch: str, peer: Peer, now: float) -> None:
        key = (branch, "INVITE" if request.method == "ACK" else request.method)
        txn = self._server.get(key)
        if txn is not None:
            txn.receive_request(request, now)
            return
        call = self.calls.get(request.headers.get("call-id") or "")
        handler = _REQUEST_HANDLERS.get(request.method, UserAgent._on_unknown)
        handler(self, request, branch, peer, call, now)

    def _nist(self, request: Request, branch: str, peer: Peer) -> NonInviteServerTransaction:
        txn = NonInviteServerTransaction(self, request, branch, peer, self.reliable)
        self._server[txn.key] = txn
        return txn

    def _reply(self, request: Request, branch: str, peer: Peer, status: int, now: float) -> None:
        extra = (("allow", ALLOW),) if request.method == "OPTIONS" or status == 405 else ()
        self._nist(request, branch, peer).respond(
            make_response(request, status, to_tag=new_tag(), extra=extra), now
        )

    def _on_ack(
        self, request: Request, branch: str, peer: Peer, call: Call | None, now: float
    ) -> None:
        rtx = self._reinvite_rtx.pop(request.headers.get("call-id") or "", None)
        if rtx is not None:
            rtx.stop()
        elif isinstance(call, InboundCall):
            call.on_ack(now)

    def _on_bye(
        self, request: Request, branch: str, peer: Peer, call: Call | None, now: float
    ) -> None:
        if call is None or call.dialog.remote_tag is None:
            self._reply(request, branch, peer, 481, now)
            return
        if isinstance(call, OutboundCall):
            call.set_bye_cause(request)
        self._reply(request, branch, peer, 200, now)
        call.on_bye(request, now)

    def _on_cancel(
        self, request: Request, branch: str, peer: Peer, call: Call | None, now: float
    ) -> None:
        invite_txn = self._server.get((branch, "INVITE"))
        self._reply(request, branch, peer, 200 if invite_txn is not None else 481, now)
        if isinstance(call, InboundCall) and invite_txn is call.ist:
            call.on_cancel(now)

    def _on_options(
        self, request: Request, branch: str, peer: Peer, call: Call | None, now: float
    ) -> None:
        self._reply(request, branch, peer, 200, now)

    def _on_unknown(
        self, request: Request, branch: str, peer: Peer, call: Call | None, now: float
    ) -> None:
        self._reply(request, branch, peer, 501, now)

    def _on_invite(
        self, request: Request, branch: str, peer: Peer, call: Call | None, now: float
    ) -> None:
        ist = InviteServerTransaction(self, request, branch, peer, self.reliable, lambda t: None)
        self._server[ist.key] = ist
        to = parse_name_addr(request.headers.get("to") or "")
        if call is not None and to is not None and to.tag:
            self._answer_reinvite(call, request, ist, now)
            return
        ist.respond(make_response(request, 100), now)
        if not self.config.accept_calls or call is not None:
            ist.respond(make_response(request, 480 if call is None else 482, to_tag=new_tag()), now)
            return
        self._offer_call(request, ist, peer, now)

    def _offer_call(
        self, request: Request, ist: InviteServerTransaction, peer: Peer, now: float
    ) -> None:
        headers = request.headers
        sender = parse_name_addr(headers.get("from") or "")
        dialog = Dialog(
            headers.get("call-id") or "",
            new_tag(),
            without_tag(headers.get("to") or ""),
            without_tag(headers.get("from") or ""),
            target_of(headers.get("contact"), sender.uri if sender else request.uri),
            peer,
            sender.tag if sender else None,
            headers.get_all("record-route"),
        )
        call = InboundCall(self, request, ist, dialog)
        call.offered_at = now
        self.calls[dialog.call_id] = call
        self.live_calls += 1
        self.emit(CallOffered(dialog.call_id, now, request, request.body))

    def _forget_reinvite(self, call_id: str, now: float) -> None:
        self._reinvite_rtx.pop(call_id, None)

    def _answer_reinvite(
        self, call: Call, request: Request, ist: InviteServerTransaction, now: float
    ) -> None:
        """Answer a re-INVITE (session refresh or hold) with our side of the session."""
        if call.answer_at is None or call.ended is not None:
            ist.respond(make_response(request, 481 if call.ended else 491), now)
            return
        ours = _our_sdp(call)
        media = parse_sdp(ours) if ours else None
        offer = parse_sdp(request.body) if request.body else None
        body = b""
        if media is not None:
            session = abs(hash(call.call_id)) % 10**9
            body = (
                build_answer(offer, media.address, media.port, session, 2)
                if offer
                else build_offer(media.address, media.port, session, 2)
            ) or b""
        status = 200 if body or media is None else 488
        response = make_response(
            request, status, to_tag=call.dialog.local_tag, contact=self.endpoint.contact, body=body
        )
        ist.respond(response, now)
        if status == 200:
            call_id = call.call_id
            rtx = SuccessRetransmitter(
                self,
                response.to_bytes(),
                ist.peer,
                self.reliable,
                functools.partial(self._forget_reinvite, call_id),
            )
            self._reinvite_rtx[call_id] = rtx
            rtx.start(now)


def _our_sdp(call: Call) -> bytes:
    if isinstance(call, OutboundCall):
        return call.spec.sdp_offer
    return call.answer_sdp


def _legacy_key(request: Request) -> str:
    """A transaction key for RFC 2543 peers whose Via has no branch."""
    return (
        "legacy:"
        + (request.headers.get("call-id") or "")
        + (request.headers.get("cseq") or "").split(" ")[0]
    )


def _granted_expiry(response: Response) -> int:
    for contact in response.headers.get_all("contact"):
        parsed = parse_name_addr(contact)
        granted = decimal(parsed.params.get("expires", "")) if parsed is not None else None
        if granted is not None:
            return granted
    return decimal(response.headers.get("expires") or "") or 0


RequestHandler = Callable[[UserAgent, Request, str, Peer, Call | None, float], None]
_REQUEST_HANDLERS: dict[str, RequestHandler] = {
    "INVITE": UserAgent._on_invite,
    "ACK": UserAgent._on_ack,
    "BYE": UserAgent._on_bye,
    "CANCEL": UserAgent._on_cancel,
    "OPTIONS": UserAgent._on_options,
}
