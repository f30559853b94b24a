"""SIP messages: the Request/Response values, the tolerant parser and the serialiser (no IO).

`parse_message` never raises on bad input: it returns a `ParseError` value. Header names are kept
in their canonical lower-case long form (compact forms expanded), values are kept as text; the
structured readers of header values live in `dialer.sip.fields`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dialer.sip.fields import decimal

SIP_VERSION = "SIP/2.0"
MAX_MESSAGE_BYTES = 65_535

COMPACT_FORMS = {
    "i": "call-id",
    "m": "contact",
    "e": "content-encoding",
    "l": "content-length",
    "c": "content-type",
    "f": "from",
    "s": "subject",
    "k": "supported",
    "t": "to",
    "v": "via",
    "o": "event",
    "r": "refer-to",
    "b": "referred-by",
    "x": "session-expires",
    "u": "allow-events",
    "y": "identity",
    "a": "accept-contact",
    "j": "reject-contact",
    "d": "request-disposition",
}

# Canonical spelling on the wire for the headers we write; others are title-cased.
WIRE_NAMES = {
    "call-id": "Call-ID",
    "cseq": "CSeq",
    "www-authenticate": "WWW-Authenticate",
    "proxy-authenticate": "Proxy-Authenticate",
    "max-forwards": "Max-Forwards",
    "content-length": "Content-Length",
    "content-type": "Content-Type",
    "user-agent": "User-Agent",
    "record-route": "Record-Route",
    "proxy-authorization": "Proxy-Authorization",
    "rseq": "RSeq",
    "rack": "RAck",
}
REQUIRED_HEADERS = ("via", "from", "to", "call-id", "cseq")
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.!%*_+`'~")


@dataclass(frozen=True, slots=True)
class ParseError:
    """A message that could not be understood; `reason` says why (a value, never raised)."""

    reason: str


class Headers:
    """An ordered multimap of header lines keyed by canonical lower-case long names."""

    __slots__ = ("_items",)

    def __init__(self, items: list[tuple[str, str]] | None = None) -> None:
        self._items: list[tuple[str, str]] = items if items is not None else []

    def add(self, name: str, value: str) -> None:
        self._items.append((canonical_name(name), value))

    def set(self, name: str, value: str) -> None:
        key = canonical_name(name)
        self._items = [(k, v) for k, v in self._items if k != key]
        self._items.append((key, value))

    def remove(self, name: str) -> None:
        key = canonical_name(name)
        self._items = [(k, v) for k, v in self._items if k != key]

    def get(self, name: str) -> str | None:
        key = canonical_name(name)
        for k, v in self._items:
            if k == key:
                return v
        return None

    def get_all(self, name: str) -> list[str]:
        """Every value of `name`, comma-separated lines split (outside quotes and <...>)."""
        key = canonical_name(name)
        out: list[str] = []
        for k, v in self._items:
            if k == key:
                out.extend(split_commas(v))
        return out

    def lines(self, name: str) -> list[str]:
        """The raw header lines of `name`, unsplit (for WWW-Authenticate and friends)."""
        key = canonical_name(name)
        return [v for k, v in self._items if k == key]

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def copy(self) -> Headers:
        return Headers(list(self._items))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None


@dataclass(slots=True)
class Request:
    """A SIP request; `uri` is the Request-URI text."""

    method: str
    uri: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    def to_bytes(self) -> bytes:
        return _serialise(f"{self.method} {self.uri} {SIP_VERSION}", self.headers, self.body)


@dataclass(slots=True)
class Response:
    """A SIP response."""

    status: int
    reason: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    def to_bytes(self) -> bytes:
        return _serialise(f"{SIP_VERSION} {self.status} {self.reason}", self.headers, self.body)


Message = Request | Response


_CANONICAL: dict[str, str] = {}


def canonical_name(name: str) -> str:
    known = _CANONICAL.get(name)
    if known is not None:
        return known
    lowered = name.strip().lower()
    canonical = COMPACT_FORMS.get(lowered, lowered)
    if len(_CANONICAL) < 1024:  # bounded: header names come from the wire
        _CANONICAL[name] = canonical
    return canonical


def wire_name(name: str) -> str:
    known = WIRE_NAMES.get(name)
    if known is None:
        known = "-".join(p.capitalize() for p in name.split("-"))
        if len(WIRE_NAMES) < 1024:
            WIRE_NAMES[name] = known
    return known


def _serialise(start: str, headers: Headers, body: bytes) -> bytes:
    lines = [start]
    for name, value in headers.items():
        if name != "content-length":
            lines.append(f"{wire_name(name)}: {value}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def split_commas(value: str) -> list[str]:
    """Split a header value on commas that are not inside quotes or angle brackets."""
    if "," not in value:
        return [value.strip()] if value.strip() else []
    parts: list[str] = []
    depth_angle = 0
    quoted = False
    start = 0
    i = 0
    while i < len(value):
        ch = value[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "<":
            depth_angle += 1
        elif ch == ">":
            depth_angle = max(0, depth_angle - 1)
        elif ch == "," and depth_angle == 0:
            parts.append(value[start:i].strip())
            start = i + 1
        i += 1
    parts.append(value[start:].strip())
    return [p for p in parts if p]


def split_head(data: bytes) -> tuple[bytes, bytes] | None:
    """Split a message into head and body at the first blank line (CRLF or bare LF)."""
    end = data.find(b"\r\n\r\n")
    if end >= 0:
        return data[:end], data[end + 4 :]
    end = data.find(b"\n\n")
    if end >= 0:
        return data[:end], data[end + 2 :]
    return None


def parse_message(data: bytes, *, stream: bool = False) -> Message | ParseError:
    """Parse one whole SIP message (a datagram, or a framed stream message)."""
    if len(data) > MAX_MESSAGE_BYTES:
        return ParseError("message too large")
    parts = split_head(data.lstrip(b"\r\n"))
    if parts is None:
        return ParseError("no blank line after the headers")
    head, body = parts
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return ParseError("headers are not UTF-8")
    lines = _unfold(text)
    if not lines:
        return ParseError("empty message")
    headers = _parse_header_lines(lines[1:])
    if isinstance(headers, ParseError):
        return headers
    sized = _apply_content_length(headers, body, stream=stream)
    if isinstance(sized, ParseError):
        return sized
    message = _parse_start_line(lines[0], headers, sized)
    if isinstance(message, ParseError):
        return message
    problem = _check_required(message)
    return problem if problem is not None else message


def _unfold(text: str) -> list[str]:
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.rstrip("\r")
        if line[:1] in (" ", "\t") and lines:
            lines[-1] = lines[-1] + " " + line.strip()
        elif line:
            lines.append(line)
    return lines


def _parse_header_lines(lines: list[str]) -> Headers | ParseError:
    items: list[tuple[str, str]] = []
    for line in lines:
        name, sep, value = line.partition(":")
        name = name.strip().lower()
        if not sep or not name or not _TOKEN_CHARS.issuperset(name):
            return ParseError(f"malformed header line {line[:40]!r}")
        items.append((COMPACT_FORMS.get(name, name), value.strip()))
    return Headers(items)


def _apply_content_length(headers: Headers, body: bytes, *, stream: bool) -> bytes | ParseError:
    raw = headers.get("content-length")
    if raw is None:
        return ParseError("stream message without Content-Length") if stream else body
    length = decimal(raw, 6)
    if length is None:
        return ParseError(f"bad Content-Length {raw[:20]!r}")
    if length > len(body):
        return ParseError("body shorter than Content-Length")
    return body[:length]


def _parse_start_line(line: str, headers: Headers, body: bytes) -> Message | ParseError:
    parts = line.split(" ", 2)
    if len(parts) != 3:
        return ParseError(f"malformed start line {line[:60]!r}")
    if parts[0].upper() == SIP_VERSION:
        status = decimal(parts[1], 3)
        if status is None or not 100 <= status <= 699:
            return ParseError(f"bad status code {parts[1][:10]!r}")
        return Response(status, parts[2].strip(), headers, body)
    method, uri, version = parts
    if version.strip().upper() != SIP_VERSION:
        return ParseError(f"unsupported version {version[:20]!r}")
    if not method or not method.isascii() or not method.isalpha() or not method.isupper():
        return ParseError(f"bad method {method[:20]!r}")
    if ":" not in uri or " " in uri:
        return ParseError(f"bad Request-URI {uri[:60]!r}")
    return Request(method, uri, headers, body)


def _check_required(message: Message) -> ParseError | None:
    for name in REQUIRED_HEADERS:
        if message.headers.get(name) is None:
            return ParseError(f"missing {name} header")
    cseq = message.headers.get("cseq") or ""
    number, _, method = cseq.partition(" ")
    if decimal(number) is None or not method.strip().isalpha():
        return ParseError(f"bad CSeq {cseq[:40]!r}")
    if isinstance(message, Request) and method.strip() != message.method:
        return ParseError("CSeq method does not match the request method")
    return None


class StreamParser:
    """Frames SIP messages out of a byte stream (TCP): needs Content-Length, bounded buffer."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.broken = False

    def feed(self, data: bytes) -> list[Message | ParseError]:
        """Append bytes and return every complete message (or error) now available."""
        if self.broken:
            return []
        self._buffer += data
        out: list[Message | ParseError] = []
        while True:
            item = self._next()
            if item is None:
                break
            out.append(item)
            if isinstance(item, ParseError) and self.broken:
                break
        return out

    def _next(self) -> Message | ParseError | None:
        while self._buffer[:2] == b"\r\n":  # keep-alive CRLFs between messages
            del self._buffer[:2]
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_MESSAGE_BYTES:
                self.broken = True
                return ParseError("header block too large")
            return None
        head = bytes(self._buffer[: end + 4])
        length = _stream_content_length(head)
        if length is None:
            self.broken = True  # cannot find the next message boundary any more
            return ParseError("stream message without a valid Content-Length")
        total = end + 4 + length
        if len(self._buffer) < total:
            return None
        raw = bytes(self._buffer[:total])
        del self._buffer[:total]
        return parse_message(raw, stream=True)


def _stream_content_length(head: bytes) -> int | None:
    for raw_line in head.split(b"\r\n")[1:]:
        name, sep, value = raw_line.partition(b":")
        if sep and name.strip().lower() in (b"content-length", b"l"):
            text = value.strip()
            if text.isdigit() and len(text) <= 6:
                return int(text)
            return None
    return None
