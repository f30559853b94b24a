"""The GSM-7 default alphabet and extension table."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.smpp import gsm7

GSM_CHARS = sorted(set(gsm7.BASIC_TABLE.replace("\x1b", "")) | set(gsm7.EXTENSION_TABLE.values()))


def test_table_positions_that_smpplib_gets_wrong() -> None:
    assert gsm7.encode("§") == b"\x5f"
    assert gsm7.encode("¤") == b"\x24"
    assert gsm7.encode("$") == b"\x02"
    assert gsm7.encode("@") == b"\x00"
    assert not gsm7.fits("`")
    assert not gsm7.fits("ç")
    assert gsm7.fits("Ç")


def test_extension_characters_take_an_escape_pair() -> None:
    assert gsm7.encode("€") == b"\x1b\x65"
    assert gsm7.encode("{}[]~|^\\\f") == b"".join(
        bytes((0x1B, c)) for c in (0x28, 0x29, 0x3C, 0x3E, 0x3D, 0x40, 0x14, 0x2F, 0x0A)
    )
    assert gsm7.septet_count("a€") == 3


def test_encode_names_the_character_that_does_not_fit() -> None:
    try:
        gsm7.encode("ok `")
    except ValueError as exc:
        assert "'`'" in str(exc)
    else:
        raise AssertionError("backtick encoded")


def test_decode_is_lenient_with_unknown_and_trailing_escapes() -> None:
    assert gsm7.decode(b"\x1b\x41") == "A"
    assert gsm7.decode(b"a\x1b") == "a "
    assert gsm7.decode(b"\x1b\x1b") == " "


@settings(max_examples=200)
@given(st.text(alphabet=GSM_CHARS))
def test_round_trip_and_counts(text: str) -> None:
    septets = gsm7.encode(text)
    assert gsm7.fits(text)
    assert gsm7.decode(septets) == text
    assert gsm7.septet_count(text) == len(septets)
    assert all(octet < 0x80 for octet in septets)
