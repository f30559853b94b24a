"""Streaming call-list reader: encoding and delimiter detection, records with line numbers.

Memory stays flat: the file is read incrementally. A record's line number is the line where it
starts (a quoted field may span lines); wholly blank lines are skipped. For parallel import the
file is cut into raw byte chunks at record boundaries, found by tracking quote parity line by
line (a `"` byte never occurs inside a multi-byte UTF-8 or cp1251 character), so CSV parsing
itself happens in the worker processes.
"""

from __future__ import annotations

import codecs
import csv
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

SAMPLE_BYTES = 1 << 20
MAX_CHUNK_BYTES = 4 << 20  # a stray quote must not pull the rest of the file into one chunk

Record = tuple[int, list[str]]
DELIMITERS = (",", ";", "\t", "|")

csv.field_size_limit(sys.maxsize)


@dataclass(frozen=True)
class FileFormat:
    encoding: str  # a Python codec name: utf-8-sig, utf-8 or cp1251
    delimiter: str


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM) when the sample decodes as UTF-8, else cp1251."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)  # a multi-byte char cut at the sample's end is fine
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1251"


def detect_delimiter(first_line: str) -> str:
    """The candidate appearing most often outside quotes in the first line (comma on a tie)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    in_quotes = False
    for char in first_line:
        if char == '"':
            in_quotes = not in_quotes
        elif not in_quotes and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def detect_format(path: Path) -> FileFormat:
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    encoding = detect_encoding(sample)
    text = sample.decode(encoding, errors="replace")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    return FileFormat(encoding, detect_delimiter(first_line))


def records(stream: TextIO, delimiter: str, first_line: int = 1) -> Iterator[Record]:
    """(start line, fields) for each non-blank record, header included."""
    reader = csv.reader(stream, delimiter=delimiter)
    offset = first_line - 1
    next_line = first_line
    for fields in reader:
        start = next_line
        next_line = offset + reader.line_num + 1
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        yield start, fields


@dataclass(frozen=True)
class RawChunk:
    """Complete records as raw bytes, and the file line the first of them starts on."""

    first_line: int
    data: bytes


def parse_chunk(chunk: RawChunk, fmt: FileFormat) -> list[Record]:
    text = chunk.data.decode(fmt.encoding.replace("-sig", ""), errors="replace")
    return list(records(io.StringIO(text, newline=""), fmt.delimiter, chunk.first_line))


class RawRecordReader:
    """Reads a file as raw record-aligned byte chunks; the first record is parsed apart (header)."""

    def __init__(self, fh: BinaryIO, fmt: FileFormat) -> None:
        self.fh = fh
        self.fmt = fmt
        self.line = 1  # number of the next line to be read
        if fmt.encoding == "utf-8-sig" and fh.read(3) != codecs.BOM_UTF8:
            fh.seek(0)

    def _next_record_lines(self) -> tuple[int, bytes] | None:
        """The lines of the next record (blank lines before it skipped)."""
        lines: list[bytes] = []
        in_quotes = False
        first = self.line
        for raw in self.fh:
            self.line += 1
            if not lines and not raw.strip():
                first = self.line
                continue
            lines.append(raw)
            in_quotes ^= bool(raw.count(b'"') & 1)
            if not in_quotes:
                break
        return (first, b"".join(lines)) if lines else None

    def first_record(self) -> tuple[Record | None, RawChunk | None]:
        found = self._next_record_lines()
        if found is None:
            return None, None
        chunk = RawChunk(found[0], found[1])
        parsed = parse_chunk(chunk, self.fmt)
        return (parsed[0] if parsed else None), chunk

    def chunks(self, lines_per_chunk: int) -> Iterator[RawChunk]:
        buffer: list[bytes] = []
        size = 0
        first = self.line
        in_quotes = False
        for raw in self.fh:
            self.line += 1
            buffer.append(raw)
            size += len(raw)
            in_quotes ^= bool(raw.count(b'"') & 1)
            full = len(buffer) >= lines_per_chunk or size >= MAX_CHUNK_BYTES
            if full and (not in_quotes or size >= MAX_CHUNK_BYTES):
                yield RawChunk(first, b"".join(buffer))
                buffer, size, first, in_quotes = [], 0, self.line, False
        if buffer:
            yield RawChunk(first, b"".join(buffer))
