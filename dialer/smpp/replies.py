"""Mobile-originated messages: reassembling long ones and telling opt-outs from other replies.

Pure: no IO, time passed in. An opt-out is a message whose whole text, or first word, is one of
the configured keywords (case-folded, surrounding punctuation ignored), so `Stop.` and
`СТОП пожалуйста` both count: when in doubt we honour the opt-out.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from dialer.smpp.pdu import SmPdu
from dialer.smpp.segmentation import decode_text, split_udh

DEFAULT_OPT_OUT_KEYWORDS = ("STOP", "UNSUBSCRIBE", "СТОП", "ОТПИСКА")


@dataclass(frozen=True, slots=True)
class OptOutReceived:
    """The phone `source_addr` asked to stop receiving SMS (consent revoked, DNC for sms)."""

    source_addr: str
    destination_addr: str
    keyword: str
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class InboundMessageReceived:
    """Any other reply; it belongs on the contact's history."""

    source_addr: str
    destination_addr: str
    text: str
    at: datetime


InboundEvent = OptOutReceived | InboundMessageReceived


def _normalise(word: str) -> str:
    stripped = "".join(c for c in word if not unicodedata.category(c).startswith(("P", "S")))
    return unicodedata.normalize("NFKC", stripped).casefold()


class OptOutDetector:
    def __init__(self, keywords: tuple[str, ...] = DEFAULT_OPT_OUT_KEYWORDS) -> None:
        self._keywords = {_normalise(k): k for k in keywords}

    def keyword_in(self, text: str) -> str | None:
        """The configured keyword `text` opts out with, or None."""
        words = text.split()
        if not words:
            return None
        whole, first = _normalise(" ".join(words)), _normalise(words[0])
        return self._keywords.get(whole) or self._keywords.get(first)

    def classify(self, source: str, destination: str, text: str, at: datetime) -> InboundEvent:
        keyword = self.keyword_in(text)
        if keyword is not None:
            return OptOutReceived(source, destination, keyword, text, at)
        return InboundMessageReceived(source, destination, text, at)


class InboundAssembler:
    """Joins the parts of long mobile-originated messages; lone parts give up after `max_age_s`."""

    def __init__(self, max_age_s: float = 300.0) -> None:
        self.max_age_s = max_age_s
        self._partial: dict[tuple[str, str, int], tuple[float, dict[int, SmPdu]]] = {}

    def add(self, pdu: SmPdu, now: float) -> str | None:
        """The whole text once every part of its message is in, else None."""
        info, payload = split_udh(pdu)
        if info is None or info.total <= 1:
            return decode_text(payload, pdu.data_coding)
        key = (pdu.source_addr, pdu.destination_addr, info.reference)
        _started, parts = self._partial.setdefault(key, (now, {}))
        parts[info.index] = pdu
        if len(parts) < info.total:
            return None
        del self._partial[key]
        return _join(parts)

    def expire(self, now: float) -> list[str]:
        """Texts of incomplete messages older than `max_age_s` (what arrived of them)."""
        old = [k for k, (t, _) in self._partial.items() if now - t > self.max_age_s]
        out: list[str] = []
        for key in old:
            _, parts = self._partial.pop(key)
            out.append(_join(parts))
        return out


def _join(parts: dict[int, SmPdu]) -> str:
    ordered = [parts[i] for i in sorted(parts)]
    payload = b"".join(split_udh(pdu)[1] for pdu in ordered)
    return decode_text(payload, ordered[0].data_coding)
