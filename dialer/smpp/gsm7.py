"""The GSM 03.38 / 3GPP 23.038 default alphabet and its extension table (unpacked septets).

SMPP carries data_coding 0 as one septet per octet, so this codec never packs septets. It is
exact: `§` is 0x5F, `¤` is 0x24, and characters outside both tables (a backtick, `ç`) do not fit.
"""

from __future__ import annotations

ESCAPE = 0x1B

BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)

EXTENSION_TABLE = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

_ENCODE: dict[str, bytes] = {ch: bytes([code]) for code, ch in enumerate(BASIC_TABLE)}
del _ENCODE["\x1b"]
_ENCODE.update({ch: bytes([ESCAPE, code]) for code, ch in EXTENSION_TABLE.items()})
_EXTENSION_DECODE = {code: ch for code, ch in EXTENSION_TABLE.items()}


def septets_of(char: str) -> bytes | None:
    """The one or two septets of `char` (an escape pair for the extension table), None if absent."""
    return _ENCODE.get(char)


def fits(text: str) -> bool:
    """True when every character of `text` is in the default alphabet or its extension table."""
    encode = _ENCODE
    return all(ch in encode for ch in text)


def septet_count(text: str) -> int:
    """Septets `text` takes in GSM-7 (an extension character counts two); text must fit."""
    return sum(len(_ENCODE[ch]) for ch in text)


def encode(text: str) -> bytes:
    """Unpacked septets of `text`; ValueError names the first character that does not fit."""
    try:
        return b"".join([_ENCODE[ch] for ch in text])
    except KeyError as exc:
        raise ValueError(f"not in the GSM-7 alphabet: {exc.args[0]!r}") from None


def decode(septets: bytes) -> str:
    """Text of unpacked septets; an unknown escape shows its basic character, a last ESC a space."""
    out: list[str] = []
    escaped = False
    for octet in septets:
        code = octet & 0x7F
        if escaped:
            fallback = " " if code == ESCAPE else BASIC_TABLE[code]
            out.append(_EXTENSION_DECODE.get(code, fallback))
            escaped = False
        elif code == ESCAPE:
            escaped = True
        else:
            out.append(BASIC_TABLE[code])
    if escaped:
        out.append(" ")
    return "".join(out)
