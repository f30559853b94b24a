"""Dialog state (RFC 3261 §12: tags, route set, CSeq, remote target) and message builders."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from dialer.sip.fields import format_host, format_via, new_branch, parse_name_addr
from dialer.sip.message import Headers, Request, Response
from dialer.sip.timers import TimerConfig
from dialer.sip.transaction import Peer, TransactionHost

REASON_PHRASES = {
    100: "Trying",
    180: "Ringing",
    183: "Session Progress",
    200: "OK",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    600: "Busy Everywhere",
    603: "Decline",
}
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS"


@dataclass(frozen=True, slots=True)
class LocalEndpoint:
    """How we appear on the wire: Via sent-by, Contact, User-Agent."""

    host: str
    port: int
    transport: str = "UDP"
    user_agent: str = "dialer"
    contact_user: str = "dialer"

    def via(self, branch: str) -> str:
        return format_via(self.transport, self.host, self.port, branch)

    @property
    def contact(self) -> str:
        suffix = "" if self.transport == "UDP" else f";transport={self.transport.lower()}"
        return f"<sip:{self.contact_user}@{format_host(self.host, self.port)}{suffix}>"


@dataclass(slots=True)
class Dialog:
    """One dialog as one side sees it; `local`/`remote` are From/To values without tags."""

    call_id: str
    local_tag: str
    local: str
    remote: str
    remote_target: str
    peer: Peer
    remote_tag: str | None = None
    route_set: list[str] = field(default_factory=list)
    local_cseq: int = 1
    remote_cseq: int | None = None

    def local_header(self) -> str:
        return f"{self.local};tag={self.local_tag}"

    def remote_header(self) -> str:
        return f"{self.remote};tag={self.remote_tag}" if self.remote_tag else self.remote

    def request(
        self,
        endpoint: LocalEndpoint,
        method: str,
        *,
        cseq: int | None = None,
        branch: str | None = None,
        body: bytes = b"",
        extra: Iterable[tuple[str, str]] = (),
    ) -> tuple[Request, str]:
        """Build an in-dialog request; returns it with its Via branch."""
        if cseq is None:
            self.local_cseq += 1
            cseq = self.local_cseq
        branch = branch or new_branch()
        headers = Headers()
        headers.add("via", endpoint.via(branch))
        headers.add("max-forwards", "70")
        for route in self.route_set:
            headers.add("route", route)
        headers.add("from", self.local_header())
        headers.add("to", self.remote_header())
        headers.add("call-id", self.call_id)
        headers.add("cseq", f"{cseq} {method}")
        if method in ("INVITE", "ACK"):
            headers.add("contact", endpoint.contact)
        headers.add("user-agent", endpoint.user_agent)
        for name, value in extra:
            headers.add(name, value)
        if body:
            headers.add("content-type", "application/sdp")
        return Request(method, self.remote_target, headers, body), branch


def target_of(contact: str | None, fallback: str) -> str:
    """The URI inside a Contact value, or `fallback`."""
    if contact:
        parsed = parse_name_addr(contact.split(",")[0])
        if parsed is not None:
            return parsed.uri
    return fallback


def make_response(
    request: Request,
    status: int,
    *,
    to_tag: str | None = None,
    contact: str | None = None,
    body: bytes = b"",
    extra: Iterable[tuple[str, str]] = (),
) -> Response:
    """A response to `request` (§8.2.6): Via, From, To (+tag), Call-ID, CSeq copied."""
    src = request.headers
    headers = Headers()
    for via in src.lines("via"):
        headers.add("via", via)
    for route in src.lines("record-route"):
        headers.add("record-route", route)
    headers.add("from", src.get("from") or "")
    to = src.get("to") or ""
    if to_tag and ";tag=" not in to.replace(" ", "").lower():
        to = f"{to};tag={to_tag}"
    headers.add("to", to)
    headers.add("call-id", src.get("call-id") or "")
    headers.add("cseq", src.get("cseq") or "")
    if contact:
        headers.add("contact", contact)
    for name, value in extra:
        headers.add(name, value)
    if body:
        headers.add("content-type", "application/sdp")
    return Response(status, REASON_PHRASES.get(status, "Unknown"), headers, body)


class SuccessRetransmitter:
    """A UAS core resending its 2xx to INVITE (§13.3.1.4) until the ACK or 64·T1."""

    def __init__(
        self,
        host: TransactionHost,
        wire: bytes,
        peer: Peer,
        reliable: bool,
        on_give_up: Callable[[float], None],
    ) -> None:
        self.host = host
        self.wire = wire
        self.peer = peer
        self.on_give_up = on_give_up
        self._interval_s = host.timers.t1_s
        self._token: int | None = None
        self._give_up: int | None = None
        self._reliable = reliable

    def start(self, now: float) -> None:
        timers: TimerConfig = self.host.timers
        if not self._reliable:
            self._token = self.host.schedule(now + self._interval_s, self._resend)
        self._give_up = self.host.schedule(now + timers.timeout_s, self._expire)

    def _resend(self, now: float) -> None:
        self.host.send(self.wire, self.peer)
        self.host.note("retransmissions")
        self._interval_s = min(2 * self._interval_s, self.host.timers.t2_s)
        self._token = self.host.schedule(now + self._interval_s, self._resend)

    def _expire(self, now: float) -> None:
        self.stop()
        self.on_give_up(now)

    def stop(self) -> None:
        for token in (self._token, self._give_up):
            if token is not None:
                self.host.cancel(token)
        self._token = self._give_up = None
