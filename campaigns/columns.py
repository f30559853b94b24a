"""Which column of a call list holds what: header recognition and the `--map` option."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from campaigns.models import ValidationError

KNOWN_FIELDS = (
    "phone",
    "alt_phones",
    "first_name",
    "last_name",
    "email",
    "country",
    "region",
    "postal_code",
    "timezone",
)

ALIASES: dict[str, tuple[str, ...]] = {
    "phone": (
        "phone",
        "phonenumber",
        "phone_number",
        "telephone",
        "tel",
        "number",
        "msisdn",
        "mobile",
        "cell",
        "cellphone",
        "primary_phone",
        "телефон",
        "номер",
        "номер_телефона",
    ),
    "alt_phones": (
        "alt_phone",
        "alternate_phone",
        "phone2",
        "phone_2",
        "other_phone",
        "home_phone",
        "work_phone",
        "mobile2",
        "second_phone",
        "доп_телефон",
    ),
    "first_name": ("first_name", "firstname", "first", "given_name", "name", "имя"),
    "last_name": ("last_name", "lastname", "surname", "family_name", "last", "фамилия"),
    "email": ("email", "e_mail", "mail", "email_address", "почта"),
    "country": ("country", "country_code", "iso_country", "страна"),
    "region": ("state", "region", "province", "state_code", "oblast", "регион", "область"),
    "postal_code": ("zip", "zipcode", "zip_code", "postal_code", "postcode", "postal", "индекс"),
    "timezone": ("timezone", "time_zone", "tz", "zone", "часовой_пояс"),
}


def normalise_header(name: str) -> str:
    return re.sub(r"[^\w]+", "_", name.strip().lower()).strip("_")


@dataclass(frozen=True)
class ColumnMap:
    """Column indexes per known field; `alt_phones` may have several; the rest become custom."""

    phone: int
    alt_phones: tuple[int, ...] = ()
    single: dict[str, int] = field(default_factory=dict)  # first_name, ..., timezone
    custom: dict[str, int] = field(default_factory=dict)  # header name -> index
    has_header: bool = True


def parse_map_option(text: str | None) -> dict[str, list[str]]:
    """`phone=Phone,first_name=Name,alt_phones=Home` → field → source column names."""
    mapping: dict[str, list[str]] = {}
    if not text:
        return mapping
    for item in text.split(","):
        if "=" not in item:
            raise ValidationError("map", f"{item!r} is not FIELD=COLUMN")
        key, _, column = item.partition("=")
        key = key.strip()
        if key not in KNOWN_FIELDS:
            raise ValidationError("map", f"{key!r} is not one of {', '.join(KNOWN_FIELDS)}")
        mapping.setdefault(key, []).append(column.strip())
    return mapping


def _index_of(headers: list[str], column: str) -> int:
    if column.isdigit() and 1 <= int(column) <= len(headers):
        return int(column) - 1
    wanted = normalise_header(column)
    for i, header in enumerate(headers):
        if normalise_header(header) == wanted:
            return i
    raise ValidationError("map", f"column {column!r} is not in the header ({', '.join(headers)})")


def build_column_map(header: list[str], explicit: dict[str, list[str]]) -> ColumnMap | None:
    """Map a header row; None when it has no recognisable phone column (maybe no header)."""
    chosen: dict[str, list[int]] = {
        k: [_index_of(header, c) for c in v] for k, v in explicit.items()
    }
    names = [normalise_header(h) for h in header]
    used = {i for idxs in chosen.values() for i in idxs}
    for key in KNOWN_FIELDS:
        if key in chosen:
            continue
        for alias in ALIASES[key]:
            hits = [i for i, n in enumerate(names) if n == alias and i not in used]
            if hits:
                chosen.setdefault(key, []).extend(hits if key == "alt_phones" else hits[:1])
                used.update(chosen[key])
                if key != "alt_phones":
                    break
    if "phone" not in chosen:
        return None
    single = {k: v[0] for k, v in chosen.items() if k not in ("phone", "alt_phones")}
    custom = {
        header[i].strip() or f"column_{i + 1}": i for i in range(len(header)) if i not in used
    }
    return ColumnMap(chosen["phone"][0], tuple(chosen.get("alt_phones", ())), single, custom)


def headerless_map(first_row: list[str], phone_index: int) -> ColumnMap:
    """A list without a header: the phone column found by content, the others kept as custom."""
    custom = {f"column_{i + 1}": i for i in range(len(first_row)) if i != phone_index}
    return ColumnMap(phone_index, (), {}, custom, has_header=False)
