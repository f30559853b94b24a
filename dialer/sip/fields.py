"""Structured readers and writers of SIP header values: URIs, name-addrs, Via, CSeq, Reason.

Readers return `None` for text they cannot understand; they never raise.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

BRANCH_MAGIC = "z9hG4bK"
NO_ANSWER_Q850_CAUSES = frozenset({18, 19})  # no user responding; no answer from user (alerted)


def new_tag() -> str:
    return secrets.token_hex(5)


def new_branch() -> str:
    return BRANCH_MAGIC + secrets.token_hex(8)


def new_call_id(host: str) -> str:
    return f"{secrets.token_hex(10)}@{host}"


def unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


def parse_params(text: str) -> dict[str, str]:
    """`;a=1;b;c="x;y"` → {"a": "1", "b": "", "c": "x;y"} (names lower-cased)."""
    params: dict[str, str] = {}
    for part in _split_outside_quotes(text, ";"):
        name, _, value = part.partition("=")
        name = name.strip().lower()
        if name:
            params[name] = unquote(value)
    return params


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    quoted = False
    start = 0
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in (s.strip() for s in parts) if p]


def split_host_port(text: str) -> tuple[str, int | None] | None:
    """`host`, `host:port`, `[v6]`, `[v6]:port` → (host, port); IPv6 hosts keep no brackets."""
    text = text.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        host, rest = text[1:end], text[end + 1 :]
        if not host:
            return None
        if not rest:
            return host, None
        if not rest.startswith(":"):
            return None
        port = rest[1:]
    else:
        host, _, port = text.partition(":")
        if not host or ":" in port:
            return None
        if not _:
            return host, None
    number = decimal(port, 5)
    if number is None or not 0 < number < 65536:
        return None
    return host, number


def decimal(text: str, max_digits: int = 10) -> int | None:
    """`text` as a non-negative integer written in ASCII digits (at most `max_digits`), else
    None. `str.isdigit` alone is not enough: it accepts "²" and other digits `int` refuses."""
    if not text.isascii() or not text.isdigit() or len(text) > max_digits:
        return None
    return int(text)


def format_host(host: str, port: int | None = None) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return shown if port is None else f"{shown}:{port}"


@dataclass(frozen=True, slots=True)
class SipUri:
    """A sip:/sips:/tel: URI with user, host, port and parameters."""

    scheme: str
    user: str | None
    host: str
    port: int | None = None
    params: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user is not None else ""
        params = "".join(f";{k}={v}" if v else f";{k}" for k, v in self.params)
        return f"{self.scheme}:{user}{format_host(self.host, self.port)}{params}"

    def param(self, name: str) -> str | None:
        for key, value in self.params:
            if key == name:
                return value
        return None


def parse_uri(text: str) -> SipUri | None:
    scheme, sep, rest = text.strip().partition(":")
    scheme = scheme.lower()
    if not sep or scheme not in ("sip", "sips", "tel"):
        return None
    rest = rest.split("?", 1)[0]
    if scheme == "tel":
        number = rest.partition(";")[0]
        return SipUri("tel", None, number) if number else None
    user: str | None = None
    if "@" in rest:
        user, rest = rest.rsplit("@", 1)
        user = user.split(":", 1)[0]
    hostport, _, params_text = rest.partition(";")
    hp = split_host_port(hostport)
    if hp is None:
        return None
    params = tuple(parse_params(params_text).items()) if params_text else ()
    return SipUri(scheme, user, hp[0], hp[1], params)


@dataclass(frozen=True, slots=True)
class NameAddr:
    """`"Display" <uri>;tag=x` as found in From, To, Contact, Route and Record-Route."""

    uri: str
    display: str = ""
    params: dict[str, str] = field(default_factory=dict)

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    def __str__(self) -> str:
        display = f'"{self.display}" ' if self.display else ""
        params = "".join(f";{k}={v}" if v else f";{k}" for k, v in self.params.items())
        return f"{display}<{self.uri}>{params}"


def parse_name_addr(text: str) -> NameAddr | None:
    text = text.strip()
    lt = text.find("<")
    if lt >= 0:
        gt = text.find(">", lt)
        if gt < 0:
            return None
        display = unquote(text[:lt])
        uri = text[lt + 1 : gt].strip()
        params = parse_params(text[gt + 1 :])
    else:
        display = ""
        uri, _, params_text = text.partition(";")
        params = parse_params(params_text)
    if ":" not in uri:
        return None
    return NameAddr(uri=uri.strip(), display=display, params=params)


@dataclass(frozen=True, slots=True)
class Via:
    """One Via value: `SIP/2.0/UDP host:port;branch=z9hG4bK...;rport`."""

    transport: str
    host: str
    port: int | None
    params: dict[str, str]

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")


def parse_via(text: str) -> Via | None:
    proto, _, rest = text.strip().partition(" ")
    pieces = proto.split("/")
    if len(pieces) != 3 or pieces[0].upper() != "SIP":
        return None
    sent_by, _, params_text = rest.strip().partition(";")
    hp = split_host_port(sent_by)
    if hp is None:
        return None
    return Via(pieces[2].upper(), hp[0], hp[1], parse_params(params_text))


def format_via(transport: str, host: str, port: int, branch: str) -> str:
    return f"SIP/2.0/{transport.upper()} {format_host(host, port)};branch={branch};rport"


def parse_cseq(text: str) -> tuple[int, str] | None:
    number_text, _, method = text.strip().partition(" ")
    number = decimal(number_text)
    if number is None or not method.strip():
        return None
    return number, method.strip().upper()


@dataclass(frozen=True, slots=True)
class Reason:
    """A Reason header value: `Q.850;cause=19;text="No answer"`."""

    protocol: str
    cause: int | None
    text: str


def parse_reason(text: str | None) -> Reason | None:
    if not text:
        return None
    protocol, _, params_text = text.strip().partition(";")
    params = parse_params(params_text)
    cause = decimal(params.get("cause", ""))
    return Reason(protocol.strip().upper(), cause, params.get("text", ""))


def q850_cause(reasons: list[str]) -> int | None:
    """The Q.850 cause among Reason header values, if a carrier gave one."""
    for value in reasons:
        reason = parse_reason(value)
        if reason is not None and reason.protocol == "Q.850" and reason.cause is not None:
            return reason.cause
    return None
