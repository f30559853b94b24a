"""SDP offer/answer (RFC 3264) for one audio stream: PCMU, PCMA and telephone-event only."""

from __future__ import annotations

from dataclasses import dataclass

from dialer.sip.fields import decimal

PCMU = 0
PCMA = 8
TELEPHONE_EVENT = "telephone-event"
STATIC_CODECS = {PCMU: "PCMU", PCMA: "PCMA"}
DEFAULT_EVENT_PT = 101


@dataclass(frozen=True, slots=True)
class MediaDescription:
    """What one side says about its audio stream."""

    address: str
    port: int
    payload_types: tuple[int, ...]
    codecs: dict[int, str]  # payload type → encoding name (upper case except telephone-event)
    direction: str = "sendrecv"

    @property
    def audio_codec(self) -> str | None:
        """The first (preferred) voice codec: 'PCMU' or 'PCMA'."""
        for pt in self.payload_types:
            name = self.codecs.get(pt)
            if name in ("PCMU", "PCMA"):
                return name
        return None

    @property
    def event_payload_type(self) -> int | None:
        for pt in self.payload_types:
            if self.codecs.get(pt) == TELEPHONE_EVENT:
                return pt
        return None


def parse_sdp(body: bytes) -> MediaDescription | None:
    """Read the first audio m-line; `None` for bodies that are not usable SDP."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    session_addr = ""
    media: list[str] | None = None
    address = ""
    codecs: dict[int, str] = {}
    direction = "sendrecv"
    for line in text.replace("\r\n", "\n").split("\n"):
        key, _, value = line.strip().partition("=")
        if key == "m":
            if media is not None:
                break  # only the first media stream
            parts = value.split()
            if len(parts) < 4 or parts[0] != "audio" or decimal(parts[1], 5) is None:
                continue
            media = parts
        elif key == "c":
            pieces = value.split()
            if len(pieces) == 3:
                if media is None:
                    session_addr = pieces[2]
                else:
                    address = pieces[2]
        elif key == "a" and media is not None:
            direction = _read_attribute(value, codecs, direction)
    if media is None:
        return None
    pts = tuple(pt for p in media[3:] if (pt := decimal(p, 3)) is not None and pt < 128)
    for pt in pts:
        if pt in STATIC_CODECS:
            codecs.setdefault(pt, STATIC_CODECS[pt])
    port = decimal(media[1], 5) or 0
    return MediaDescription(address or session_addr, port, pts, codecs, direction)


def _read_attribute(value: str, codecs: dict[int, str], direction: str) -> str:
    if value in ("sendrecv", "sendonly", "recvonly", "inactive"):
        return value
    if value.startswith("rtpmap:"):
        pt_text, _, encoding = value[7:].partition(" ")
        name = encoding.split("/", 1)[0]
        pt = decimal(pt_text, 3)
        if pt is not None:
            upper = name.upper()
            codecs[pt] = TELEPHONE_EVENT if upper == "TELEPHONE-EVENT" else upper
    return direction


def build_sdp(
    *,
    address: str,
    port: int,
    payload_types: tuple[int, ...],
    event_pt: int | None,
    session_id: int,
    version: int,
    direction: str = "sendrecv",
) -> bytes:
    """Serialise an SDP body for one audio stream."""
    ip_kind = "IP6" if ":" in address else "IP4"
    pts = [*payload_types, *([event_pt] if event_pt is not None else [])]
    lines = [
        "v=0",
        f"o=dialer {session_id} {version} IN {ip_kind} {address}",
        "s=dialer",
        f"c=IN {ip_kind} {address}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(str(p) for p in pts)}",
    ]
    lines += [f"a=rtpmap:{pt} {STATIC_CODECS[pt]}/8000" for pt in payload_types]
    if event_pt is not None:
        lines += [f"a=rtpmap:{event_pt} telephone-event/8000", f"a=fmtp:{event_pt} 0-16"]
    lines += ["a=ptime:20", f"a={direction}"]
    return ("\r\n".join(lines) + "\r\n").encode()


def build_offer(address: str, port: int, session_id: int, version: int = 1) -> bytes:
    return build_sdp(
        address=address,
        port=port,
        payload_types=(PCMU, PCMA),
        event_pt=DEFAULT_EVENT_PT,
        session_id=session_id,
        version=version,
    )


_ANSWER_DIRECTION = {
    "sendrecv": "sendrecv",
    "sendonly": "recvonly",
    "recvonly": "sendonly",
    "inactive": "inactive",
}


def build_answer(
    offer: MediaDescription, address: str, port: int, session_id: int, version: int = 1
) -> bytes | None:
    """Answer an offer with the first voice codec we share; `None` if we share none."""
    chosen = [pt for pt in offer.payload_types if offer.codecs.get(pt) in ("PCMU", "PCMA")]
    if not chosen:
        return None
    pt = chosen[0]
    codec_pt = PCMU if offer.codecs[pt] == "PCMU" else PCMA
    return build_sdp(
        address=address,
        port=port,
        payload_types=(codec_pt,),
        event_pt=offer.event_payload_type,
        session_id=session_id,
        version=version,
        direction=_ANSWER_DIRECTION.get(offer.direction, "sendrecv"),
    )


def answer_matches_offer(offer: MediaDescription, answer: MediaDescription) -> bool:
    """RFC 3264 §6: an answer's voice codecs must come from the offer."""
    offered = {offer.codecs.get(pt) for pt in offer.payload_types}
    answered = {answer.codecs.get(pt) for pt in answer.payload_types} - {None}
    return bool(answered) and answered <= offered
