"""A synthetic call list for the import benchmark: mixed formats and countries, known bad rows.

Every valid number is unique by construction (row i maps to a distinct subscriber number), so the
expected counts are exact: `invalid` rows are built invalid, `duplicates` repeat an earlier valid
row's number in another format.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

US_AREA_CODES = (
    "212",
    "213",
    "305",
    "312",
    "404",
    "415",
    "503",
    "602",
    "617",
    "702",
    "713",
    "718",
    "801",
    "808",
    "907",
    "206",
    "303",
    "720",
    "512",
    "614",
)
INVALID_SAMPLES = (
    "123",
    "555-01",
    "not a phone",
    "+1 123 456 7890",
    "0000000",
    "+999 12345",
    "",
    "12345678901234567",
    "+44 99",
)


@dataclass(frozen=True)
class ListSpec:
    rows: int
    invalid_share: float = 0.05
    duplicate_share: float = 0.03
    seed: int = 42


@dataclass
class ListCounts:
    rows: int = 0
    invalid: int = 0
    duplicates: int = 0


def us_number(i: int) -> tuple[str, str, str]:
    area = US_AREA_CODES[i % len(US_AREA_CODES)]
    rest = i // len(US_AREA_CODES)
    exchange = 200 + (rest // 10_000) % 800
    if exchange % 100 == 11:  # N11 codes are not exchanges
        exchange += 1
    line = rest % 10_000
    return area, f"{exchange:03d}", f"{line:04d}"


def format_us(area: str, exchange: str, line: str, style: int) -> str:
    styles = (
        f"({area}) {exchange}-{line}",
        f"{area}-{exchange}-{line}",
        f"+1{area}{exchange}{line}",
        f"{area}.{exchange}.{line}",
        f"+1 {area} {exchange} {line}",
        f"1{area}{exchange}{line}",
    )
    return styles[style % len(styles)]


def foreign_number(i: int, style: int) -> str:
    n = i % 10_000_000
    kind = style % 4
    if kind == 0:
        return f"+44 20 7{n // 10_000 % 1000:03d} {n % 10_000:04d}"
    if kind == 1:
        return f"+7 9{n // 1_000_000 % 100:02d} {n // 1000 % 1000:03d}-{n % 1000:03d}-{n % 7}"
    if kind == 2:
        return f"+49 30 {20_000_000 + n:08d}"
    return f"+33 6 {n // 1_000_000 % 100:02d} {n // 10_000 % 100:02d} {n % 10_000:04d}"


def phone_for(i: int, rng: random.Random) -> str:
    style = rng.randrange(12)
    if style < 9:
        return format_us(*us_number(i), style)
    return foreign_number(i, style)


def write_list(path: Path, spec: ListSpec) -> ListCounts:
    """Write the CSV and return the counts an exact importer must report."""
    rng = random.Random(spec.seed)
    counts = ListCounts(rows=spec.rows)
    earlier: list[int] = []
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["first_name", "last_name", "phone", "state", "zip", "email", "segment"])
        for row in range(spec.rows):
            draw = rng.random()
            if draw < spec.invalid_share:
                phone = rng.choice(INVALID_SAMPLES)
                counts.invalid += 1
            elif draw < spec.invalid_share + spec.duplicate_share and earlier:
                i = earlier[rng.randrange(len(earlier))]
                phone = format_us(*us_number(i), rng.randrange(6))
                counts.duplicates += 1
            else:
                phone = phone_for(row, rng)
                is_us = phone.startswith(("(", "+1")) or phone[0].isdigit()
                if is_us and len(earlier) < 100_000:
                    earlier.append(row)
            state = "CA" if row % 3 == 0 else ""
            writer.writerow(
                [
                    f"First{row}",
                    f"Last{row}",
                    phone,
                    state,
                    "",
                    f"p{row}@example.com",
                    rng.choice(("a", "b", "c")),
                ]
            )
    return counts
