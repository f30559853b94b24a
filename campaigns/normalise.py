"""Turn raw list records into staging rows: E.164 numbers, validity, zones, custom fields.

Runs in worker processes (pure functions over picklable values). Validity is decided exactly as
`phonenumbers.is_valid_number` decides it, but the number type is computed once and reused for the
time-zone lookup, which would otherwise classify the number a second time. The common North
American spellings ("(212) 555-0100", "+1 212 555 0100", "1-212-555-0100", …) are read directly:
`parse_nanp` returns the number `phonenumbers.parse` would (a property test holds it to that) at a
tenth of the cost; anything else goes to `phonenumbers.parse`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import NamedTuple

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberDesc, PhoneNumberType
from phonenumbers.phonenumberutil import (
    COUNTRY_CODE_TO_REGION_CODE,
    is_number_type_geographical,
    national_significant_number,
)
from phonenumbers.re_util import enable_pattern_cache, re_compile

from campaigns.columns import ColumnMap
from campaigns.csv_source import FileFormat, RawChunk, parse_chunk
from campaigns.zones import country_zones, geographic_zones, narrow

enable_pattern_cache()  # keep every metadata regex compiled (re's own cache holds only 512)

MAX_PHONE_CHARS = 64
NANP_REGIONS = frozenset(COUNTRY_CODE_TO_REGION_CODE[1])
# Optional +1 or 1, then area code (not starting 0 or 1), exchange and line, with the usual
# separators; anything fancier (letters, extensions, other punctuation) goes to phonenumbers.
NANP_SPELLING = re.compile(r"(\+1|1)?[ .-]?\(?([2-9][0-9]{2})\)?[ .-]?([0-9]{3})[ .-]?([0-9]{4})")
NEEDS_COPY_ESCAPE = re.compile(r"[\\\t\n\r\x00]")
JSON_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')  # what json.dumps escapes (ensure_ascii off)
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


def parse_nanp(text: str, default_region: str) -> int | None:
    """The national number `phonenumbers.parse(text, default_region)` returns for a common North
    American spelling (country code 1, nothing else set), or None when `text` is not one: then
    ask phonenumbers. Without "+1" the default region must share calling code 1 (the North
    American Numbering Plan), else phonenumbers reads the digits as that region's."""
    match = NANP_SPELLING.fullmatch(text)
    if match is None:
        return None
    if match.group(1) != "+1" and default_region not in NANP_REGIONS:
        return None
    return int(match.group(2) + match.group(3) + match.group(4))


def classify(country_code: int, nsn: str) -> tuple[str, int] | None:
    """(region, number type) of a valid number given its calling code and national significant
    number; None exactly when `is_valid_number` is False.

    `is_valid_number` finds the region (for shared calling codes such as +1 by computing the
    number type against each region in turn) and then computes the type again; here the type
    found during the region search is kept.
    """
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not regions:
        return None
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
            found = number_type(nsn, metadata)
            if found != PhoneNumberType.UNKNOWN:
                return region, found
    return None


def _typed(region: str, nsn: str, metadata: PhoneMetadata | None) -> tuple[str, int] | None:
    if metadata is None:
        return None
    found = number_type(nsn, metadata)
    return None if found == PhoneNumberType.UNKNOWN else (region, found)


# A number description compiled once: (possible lengths or None for any, pattern), or None for a
# description that never matches (absent, or without a national number pattern).
Desc = tuple[frozenset[int] | None, re.Pattern[str]] | None
SPECIAL_TYPES = (
    ("premium_rate", PhoneNumberType.PREMIUM_RATE),
    ("toll_free", PhoneNumberType.TOLL_FREE),
    ("shared_cost", PhoneNumberType.SHARED_COST),
    ("voip", PhoneNumberType.VOIP),
    ("personal_number", PhoneNumberType.PERSONAL_NUMBER),
    ("pager", PhoneNumberType.PAGER),
    ("uan", PhoneNumberType.UAN),
    ("voicemail", PhoneNumberType.VOICEMAIL),
)


@dataclass(frozen=True, slots=True)
class TypeTable:
    """One region's number descriptions, compiled, in the order phonenumbers tries them."""

    metadata: PhoneMetadata  # held so that its id() keys the cache for good
    general: Desc
    special: tuple[tuple[Desc, int], ...]
    fixed_line: Desc
    mobile: Desc
    same_mobile_and_fixed_line: bool


_TYPE_TABLES: dict[int, TypeTable] = {}


def _compiled(desc: PhoneNumberDesc | None) -> Desc:
    if desc is None or not desc.national_number_pattern:
        return None
    lengths = frozenset(desc.possible_length) if desc.possible_length else None
    return lengths, re.compile(desc.national_number_pattern)


def _type_table(metadata: PhoneMetadata) -> TypeTable:
    table = _TYPE_TABLES.get(id(metadata))
    if table is None:
        table = TypeTable(
            metadata=metadata,
            general=_compiled(metadata.general_desc),
            special=tuple((_compiled(getattr(metadata, a)), t) for a, t in SPECIAL_TYPES),
            fixed_line=_compiled(metadata.fixed_line),
            mobile=_compiled(metadata.mobile),
            same_mobile_and_fixed_line=bool(metadata.same_mobile_and_fixed_line_pattern),
        )
        _TYPE_TABLES[id(metadata)] = table
    return table


def _matches(nsn: str, desc: Desc) -> bool:
    """phonenumbers' `_is_number_matching_desc` (a prefix match followed by a full match is
    the full match alone)."""
    if desc is None:
        return False
    lengths, pattern = desc
    return (lengths is None or len(nsn) in lengths) and pattern.fullmatch(nsn) is not None


def number_type(nsn: str, metadata: PhoneMetadata) -> int:
    """phonenumbers' `_number_type_helper`, with every description compiled once per region."""
    table = _type_table(metadata)
    if not _matches(nsn, table.general):
        return PhoneNumberType.UNKNOWN
    for desc, kind in table.special:
        if _matches(nsn, desc):
            return kind
    if _matches(nsn, table.fixed_line):
        if table.same_mobile_and_fixed_line or _matches(nsn, table.mobile):
            return PhoneNumberType.FIXED_LINE_OR_MOBILE
        return PhoneNumberType.FIXED_LINE
    if not table.same_mobile_and_fixed_line and _matches(nsn, table.mobile):
        return PhoneNumberType.MOBILE
    return PhoneNumberType.UNKNOWN


def normalise_phone(raw: str, default_region: str) -> ValidNumber | str:
    """A valid number with its zones, or the reason it is invalid."""
    text = raw.strip()
    if not text:
        return "no phone"
    if len(text) > MAX_PHONE_CHARS:
        return f"phone field too long ({len(text)} characters)"
    nanp = parse_nanp(text, default_region)
    if nanp is not None:
        country_code, nsn = 1, str(nanp)
    else:
        try:
            number = phonenumbers.parse(text, default_region)
        except phonenumbers.NumberParseException as exc:
            return f"unparseable phone: {exc._msg}"
        if number.country_code is None:
            return f"not a valid number (default region {default_region})"
        country_code, nsn = number.country_code, national_significant_number(number)
    found = classify(country_code, nsn)
    if found is None:
        return f"not a valid number (default region {default_region})"
    region, number_type = found
    e164 = f"+{country_code}{nsn}"
    if is_number_type_geographical(number_type, country_code):
        zones = geographic_zones(e164[1:])
    else:
        zones = country_zones(country_code)
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


@dataclass(frozen=True, slots=True)
class RowLayout:
    """The column indexes a row needs, resolved once per chunk; custom names JSON-encoded once."""

    phone: int
    country: int | None
    first_name: int | None
    last_name: int | None
    email: int | None
    region: int | None
    postal_code: int | None
    timezone: int | None
    alt_phones: tuple[int, ...]
    custom: tuple[tuple[str, int], ...]  # (JSON string of the header name, index)

    @classmethod
    def of(cls, columns: ColumnMap) -> RowLayout:
        get = columns.single.get
        custom = tuple(
            (_json_string(name.replace("\x00", "")), i) for name, i in columns.custom.items()
        )
        return cls(
            phone=columns.phone,
            country=get("country"),
            first_name=get("first_name"),
            last_name=get("last_name"),
            email=get("email"),
            region=get("region"),
            postal_code=get("postal_code"),
            timezone=get("timezone"),
            alt_phones=columns.alt_phones,
            custom=custom,
        )


def _row_region(fields: list[str], layout: RowLayout, default_region: str) -> str:
    country = _cell(fields, layout.country).upper()
    return country if country in phonenumbers.SUPPORTED_REGIONS else default_region


def _alt_phones(fields: list[str], layout: RowLayout, region: str, main: str) -> list[str]:
    found: list[str] = []
    for index in layout.alt_phones:
        result = normalise_phone(_cell(fields, index), region)
        if isinstance(result, ValidNumber) and result.e164 != main and result.e164 not in found:
            found.append(result.e164)
    return found


def _json_string(text: str) -> str:
    """`text` as a JSON string (as json.dumps writes it, without the call when nothing needs
    escaping)."""
    if JSON_NEEDS_ESCAPE.search(text) is None:
        return f'"{text}"'
    return json.dumps(text, ensure_ascii=False)


def _custom_json(fields: list[str], custom: tuple[tuple[str, int], ...]) -> str:
    """Unknown columns as a JSON object; NUL characters dropped (PostgreSQL rejects them)."""
    count = len(fields)
    members = [
        f"{name}: {_json_string(fields[i].replace(chr(0), ''))}"
        for name, i in custom
        if i < count and fields[i]
    ]
    return "{" + ", ".join(members) + "}" if members else "{}"


def staging_line(line: int, fields: list[str], layout: RowLayout, number: ValidNumber) -> str:
    """One COPY text line for a valid record."""
    region = _cell(fields, layout.region)
    postal = _cell(fields, layout.postal_code)
    zone = _cell(fields, layout.timezone)
    if region or postal or zone:
        zones = narrow(number.zones, number.region, zone, postal, region)
        candidates, explicit = zones.candidates, zones.explicit or ""
    else:
        candidates, explicit = number.zones, ""
    alt = _alt_phones(fields, layout, number.region, number.e164) if layout.alt_phones else ()
    texts = (
        _cell(fields, layout.first_name),
        _cell(fields, layout.last_name),
        _cell(fields, layout.email),
        region,
        postal,
        explicit,
        _custom_json(fields, layout.custom),
    )
    if NEEDS_COPY_ESCAPE.search("".join(texts)) is None:
        first, last, email, region_v, postal_v, explicit_v, custom = (t or "\\N" for t in texts)
    else:
        first, last, email, region_v, postal_v, explicit_v, custom = map(_copy_value, texts)
    values = (
        str(line),
        number.e164,
        _array(alt),
        first,
        last,
        email,
        number.region,
        region_v,
        postal_v,
        _array(candidates),
        explicit_v,
        custom,
    )
    return "\t".join(values) + "\n"


def normalise_chunk(chunk: list[tuple[int, list[str]]], ctx: ImportContext) -> ChunkResult:
    """Normalise a chunk of (line, fields) records into COPY data plus counts and errors."""
    result = ChunkResult(rows=len(chunk))
    layout = RowLayout.of(ctx.columns)
    out: list[str] = []
    for line, fields in chunk:
        raw = _cell(fields, layout.phone)
        number = normalise_phone(raw, _row_region(fields, layout, ctx.default_region))
        if isinstance(number, str):
            result.invalid += 1
            result.errors.append((line, number, raw[:MAX_PHONE_CHARS]))
            continue
        out.append(staging_line(line, fields, layout, number))
    result.valid = len(out)
    result.copy_data = "".join(out).encode("utf-8")
    return result


def normalise_raw_chunk(chunk: RawChunk, ctx: ImportContext) -> ChunkResult:
    """Parse a raw record-aligned chunk of the file, then normalise it (runs in a worker)."""
    return normalise_chunk(parse_chunk(chunk, ctx.file_format), ctx)
