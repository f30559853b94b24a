"""DNC registry file import: a vectorised digits-only fast path, a CSV fallback, and the as-of date.

Registry files are already normalised (one number a line), so the fast path parses whole chunks
with numpy (no per-line Python objects): lines of digits, optionally `+`-prefixed (international)
and CR-terminated; national lines get `country_code` prepended (one leading trunk `0` dropped).
Anything else (commas, quotes, letters) goes through the CSV fallback, which picks the phone
column (or joins area code and number columns). Counts follow the glossary:
`rows = imported + invalid + duplicates`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt

from compliance.dnc import DncSet, Keys
from config.vocabulary import DncChannel, DncScope

CHUNK_BYTES = 32 * 1024 * 1024
_FAST_BYTES = b"0123456789\r\n+"
_MAX_DIGITS = 15
_PHONE_HEADERS = ("e164", "phone", "phonenumber", "number", "telephone", "msisdn", "tel")


@dataclass(frozen=True)
class RegistryLoad:
    """The parsed numbers (sorted, unique) and the import counts."""

    digits: Keys
    rows: int
    imported: int
    invalid: int
    duplicates: int
    fast_path: bool

    def to_set(
        self,
        scope: DncScope,
        channel: DncChannel,
        *,
        as_of: date | None,
        owner: str | None = None,
        registry: bool = False,
        source: str = "",
    ) -> DncSet:
        return DncSet(scope, channel, self.digits, owner, registry, source, as_of)


def _parse_digit_lines(
    buf: npt.NDArray[np.uint8], country_code: int | None
) -> tuple[Keys, int, int]:
    """Vectorised parse of newline-terminated digit lines → (keys, rows, invalid)."""
    ends = np.flatnonzero(buf == 10)
    starts = np.empty_like(ends)
    starts[0:1] = 0
    starts[1:] = ends[:-1] + 1
    ends = ends - (buf[np.maximum(ends - 1, 0)] == 13) * (ends > starts)
    plus = (ends > starts) & (buf[np.minimum(starts, buf.size - 1)] == 43)
    first = starts + plus
    length = ends - first
    blank = (length <= 0) & ~plus
    trunk = ~plus & (length > 0) & (buf[np.minimum(first, buf.size - 1)] == 48)
    if country_code is None:
        trunk[:] = False
    digits_len = length - trunk
    value = np.zeros(ends.size, dtype=np.int64)
    power = np.int64(1)
    for k in range(_MAX_DIGITS):
        take = k < digits_len
        if not take.any():
            break
        value[take] += (buf[ends[take] - 1 - k].astype(np.int64) - 48) * power
        power *= 10
    national = ~plus & (digits_len > 0)
    total_len = digits_len.copy()
    if country_code is not None:
        cc_len = len(str(country_code))
        value[national] += np.int64(country_code) * np.power(
            np.int64(10), digits_len[national].astype(np.int64)
        )
        total_len[national] += cc_len
    ok = ~blank & (digits_len > 0) & (total_len <= _MAX_DIGITS) & (value > 0)
    ok &= plus | (country_code is not None)
    ok &= np.floor_divide(value, np.power(np.int64(10), np.maximum(total_len - 1, 0))) > 0
    rows = int((~blank).sum())
    return value[ok], rows, rows - int(ok.sum())


def _chunks(path: Path, size: int) -> Iterator[bytes]:
    """The file in chunks that end on a newline (the last one gets one if missing)."""
    tail = b""
    with path.open("rb") as handle:
        while block := handle.read(size):
            block = tail + block
            cut = block.rfind(b"\n") + 1
            tail = block[cut:]
            if cut:
                yield block[:cut]
    if tail:
        yield tail + b"\n"


def is_digits_only(path: Path, probe_bytes: int = 1 << 20) -> bool:
    with path.open("rb") as handle:
        return not handle.read(probe_bytes).translate(None, _FAST_BYTES)


def _finish(parts: list[Keys], rows: int, invalid: int, fast: bool) -> RegistryLoad:
    merged = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    unique = np.unique(merged)
    duplicates = int(merged.size - unique.size)
    return RegistryLoad(unique, rows, int(unique.size), invalid, duplicates, fast)


def load_registry(path: Path, *, country_code: int | None = None) -> RegistryLoad:
    """Parse a registry file: the digits-only fast path when it applies, else CSV."""
    if not is_digits_only(path):
        return _load_csv(path, country_code)
    parts: list[Keys] = []
    rows = invalid = 0
    for chunk in _chunks(path, CHUNK_BYTES):
        if chunk.translate(None, _FAST_BYTES):
            return _load_csv(path, country_code)
        keys, chunk_rows, chunk_invalid = _parse_digit_lines(
            np.frombuffer(chunk, dtype=np.uint8), country_code
        )
        parts.append(keys)
        rows += chunk_rows
        invalid += chunk_invalid
    return _finish(parts, rows, invalid, True)


def normalise(raw: str, country_code: int | None) -> int | None:
    """One phone field → E.164 digits as int (None: unusable)."""
    text = raw.strip()
    digits = "".join(ch for ch in text if "0" <= ch <= "9")
    if not digits:
        return None
    if text.startswith("+") or text.startswith("00"):
        digits = digits[2:] if text.startswith("00") else digits
    elif country_code is not None:
        digits = str(country_code) + (digits[1:] if digits.startswith("0") else digits)
    else:
        return None
    if digits[0] == "0" or len(digits) > _MAX_DIGITS:
        return None
    return int(digits)


def _columns(header: list[str]) -> list[int] | None:
    """Phone column (and area-code column, joined before it) when `header` is a header row."""
    names = ["".join(ch for ch in h.lower() if ch.isalnum()) for h in header]
    phone = next((i for i, n in enumerate(names) if n in _PHONE_HEADERS or "phone" in n), None)
    if phone is None:
        return None
    area = next((i for i, n in enumerate(names) if "area" in n and i != phone), None)
    return [phone] if area is None else [area, phone]


def _load_csv(path: Path, country_code: int | None) -> RegistryLoad:
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        return _load_csv_stream(handle, country_code)


def _load_csv_stream(handle: io.TextIOBase, country_code: int | None) -> RegistryLoad:
    sample = handle.read(65536)
    handle.seek(0)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, ",;\t|")
    except csv.Error:
        dialect = csv.excel
    values: list[int] = []
    rows = invalid = 0
    columns: list[int] | None = None
    for record in csv.reader(handle, dialect):
        if not any(field.strip() for field in record):
            continue
        if columns is None:
            columns = _columns(record)
            if columns is not None:
                continue  # a header
            columns = [0]
        rows += 1
        key = normalise("".join(record[i] for i in columns if i < len(record)), country_code)
        if key is None:
            invalid += 1
        else:
            values.append(key)
    return _finish([np.asarray(values, dtype=np.int64)], rows, invalid, False)


def parse_text(text: str, *, country_code: int | None = None) -> RegistryLoad:
    """Parse registry text already in memory (tests, API uploads), fast path or CSV."""
    data = text.encode()
    if data.translate(None, _FAST_BYTES):
        return _load_csv_stream(io.StringIO(text), country_code)
    if not data.endswith(b"\n"):
        data += b"\n"
    keys, rows, invalid = _parse_digit_lines(np.frombuffer(data, dtype=np.uint8), country_code)
    return _finish([keys], rows, invalid, True)
