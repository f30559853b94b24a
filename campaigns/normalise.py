"""Turn raw list records into staging rows: E.164 numbers, validity, zones, custom fields.

Runs in worker processes (pure functions over picklable values). Validity is decided exactly as
`phonenumbers.is_valid_number` decides it, but the number type is computed once and reused for the
time-zone lookup, which would otherwise classify the number a second time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import NamedTuple

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumber, PhoneNumberType
from phonenumbers.phonenumberutil import (
    COUNTRY_CODE_TO_REGION_CODE,
    _number_type_helper,
    is_number_type_geographical,
    national_significant_number,
)
from phonenumbers.re_util import re_compile

from campaigns.columns import ColumnMap
from campaigns.csv_source import FileFormat, RawChunk, parse_chunk
from campaigns.zones import country_zones, geographic_zones, narrow

MAX_PHONE_CHARS = 64
NEEDS_COPY_ESCAPE = re.compile(r"[\\\t\n\r\x00]")
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": ""})
STAGING_COLUMNS = (
    "line",
    "phone",
    "alt_phones",
    "first_name",
    "last_name",
    "email",
    "country",
    "region",
    "postal_code",
    "tz_candidates",
    "tz_explicit",
    "custom",
)


@dataclass(frozen=True)
class ImportContext:
    default_region: str
    columns: ColumnMap
    file_format: FileFormat


class ValidNumber(NamedTuple):
    """A valid number in E.164 with its region and candidate zones (a tuple: built per row)."""

    e164: str
    region: str
    zones: tuple[str, ...]


@dataclass
class ChunkResult:
    copy_data: bytes = b""
    rows: int = 0
    valid: int = 0
    invalid: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # line, reason, raw phone


def classify(number: PhoneNumber) -> tuple[str, int] | None:
    """(region, number type) of a valid number; None exactly when `is_valid_number` is False.

    `is_valid_number` finds the region (for shared calling codes such as +1 by computing the
    number type against each region in turn) and then computes the type again; here the type
    found during the region search is kept.
    """
    country_code = number.country_code
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code or 0)
    if not regions or country_code is None:
        return None
    nsn = national_significant_number(number)
    if len(regions) == 1:
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, regions[0])
        return _typed(regions[0], nsn, metadata)
    for region in regions:
        metadata = PhoneMetadata.metadata_for_region(region.upper(), None)
        if metadata is None:
            continue
        if metadata.leading_digits is not None:
            if re_compile(metadata.leading_digits).match(nsn):
                return _typed(region, nsn, metadata)
        else:
            number_type = _number_type_helper(nsn, metadata)
            if number_type != PhoneNumberType.UNKNOWN:
                return region, number_type
    return None


def _typed(region: str, nsn: str, metadata: PhoneMetadata | None) -> tuple[str, int] | None:
    if metadata is None:
        return None
    number_type = _number_type_helper(nsn, metadata)
    return None if number_type == PhoneNumberType.UNKNOWN else (region, number_type)


def normalise_phone(raw: str, default_region: str) -> ValidNumber | str:
    """A valid number with its zones, or the reason it is invalid."""
    text = raw.strip()
    if not text:
        return "no phone"
    if len(text) > MAX_PHONE_CHARS:
        return f"phone field too long ({len(text)} characters)"
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        return f"unparseable phone: {exc._msg}"
    found = classify(number)
    if found is None:
        return f"not a valid number (default region {default_region})"
    region, number_type = found
    assert number.country_code is not None  # classify() checked it
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if is_number_type_geographical(number_type, number.country_code):
        zones = geographic_zones(e164[1:])
    else:
        zones = country_zones(number.country_code)
    return ValidNumber(e164, region, zones)


def _cell(fields: list[str], index: int | None) -> str:
    if index is None or index >= len(fields):
        return ""
    return fields[index].strip()


def _copy_value(value: str | None) -> str:
    """A value in COPY text format: empty is NULL; escapes only when a special byte occurs."""
    if not value:
        return "\\N"
    return value if NEEDS_COPY_ESCAPE.search(value) is None else value.translate(COPY_ESCAPES)


def _array(items: tuple[str, ...] | list[str]) -> str:
    return "{" + ",".join(items) + "}"


def _row_region(fields: list[str], ctx: ImportContext) -> str:
    country = _cell(fields, ctx.columns.single.get("country")).upper()
    return country if country in phonenumbers.SUPPORTED_REGIONS else ctx.default_region


def _alt_phones(fields: list[str], ctx: ImportContext, region: str, main: str) -> list[str]:
    found: list[str] = []
    for index in ctx.columns.alt_phones:
        result = normalise_phone(_cell(fields, index), region)
        if isinstance(result, ValidNumber) and result.e164 != main and result.e164 not in found:
            found.append(result.e164)
    return found


def _custom_json(fields: list[str], custom: dict[str, int]) -> str:
    """Unknown columns as a JSON object; NUL characters dropped (PostgreSQL rejects them)."""
    values = {
        name.replace("\x00", ""): fields[i].replace("\x00", "")
        for name, i in custom.items()
        if i < len(fields) and fields[i]
    }
    return json.dumps(values, ensure_ascii=False) if values else "{}"


def staging_line(line: int, fields: list[str], ctx: ImportContext, number: ValidNumber) -> str:
    """One COPY text line for a valid record."""
    single = ctx.columns.single
    region = _cell(fields, single.get("region"))
    postal = _cell(fields, single.get("postal_code"))
    zone = _cell(fields, single.get("timezone"))
    if region or postal or zone:
        zones = narrow(number.zones, number.region, zone, postal, region)
        candidates, explicit = zones.candidates, zones.explicit
    else:
        candidates, explicit = number.zones, None
    alt = _alt_phones(fields, ctx, number.region, number.e164) if ctx.columns.alt_phones else ()
    values = (
        str(line),
        number.e164,
        _array(alt),
        _copy_value(_cell(fields, single.get("first_name"))),
        _copy_value(_cell(fields, single.get("last_name"))),
        _copy_value(_cell(fields, single.get("email"))),
        number.region,
        _copy_value(region),
        _copy_value(postal),
        _array(candidates),
        _copy_value(explicit),
        _copy_value(_custom_json(fields, ctx.columns.custom)),
    )
    return "\t".join(values) + "\n"


def normalise_chunk(chunk: list[tuple[int, list[str]]], ctx: ImportContext) -> ChunkResult:
    """Normalise a chunk of (line, fields) records into COPY data plus counts and errors."""
    result = ChunkResult(rows=len(chunk))
    out: list[str] = []
    for line, fields in chunk:
        raw = _cell(fields, ctx.columns.phone)
        number = normalise_phone(raw, _row_region(fields, ctx))
        if isinstance(number, str):
            result.invalid += 1
            result.errors.append((line, number, raw[:MAX_PHONE_CHARS]))
            continue
        out.append(staging_line(line, fields, ctx, number))
    result.valid = len(out)
    result.copy_data = "".join(out).encode("utf-8")
    return result


def normalise_raw_chunk(chunk: RawChunk, ctx: ImportContext) -> ChunkResult:
    """Parse a raw record-aligned chunk of the file, then normalise it (runs in a worker)."""
    return normalise_chunk(parse_chunk(chunk, ctx.file_format), ctx)
