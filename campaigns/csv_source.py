"""Streaming call-list reader: encoding and delimiter detection, records with line numbers.

Memory stays flat: the file is decoded and parsed incrementally. A record's line number is the
line where it starts (a quoted field may span lines); wholly blank lines are skipped.
"""

from __future__ import annotations

import codecs
import csv
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

SAMPLE_BYTES = 1 << 20
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


def open_text(path: Path, fmt: FileFormat) -> TextIO:
    return path.open("r", encoding=fmt.encoding, errors="replace", newline="")


def records(stream: TextIO, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(start line, fields) for each non-blank record, header included."""
    reader = csv.reader(stream, delimiter=delimiter)
    next_line = 1
    for fields in reader:
        start = next_line
        next_line = reader.line_num + 1
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        yield start, fields
