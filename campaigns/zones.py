"""Callee time zones: candidates from the number, narrowed by zone, ZIP or state columns."""

from __future__ import annotations

import functools
import gzip
import sys
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

UNKNOWN_ZONE = "Etc/Unknown"

US_ZONE_ALIASES = {
    "est": "America/New_York",
    "edt": "America/New_York",
    "et": "America/New_York",
    "eastern": "America/New_York",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "ct": "America/Chicago",
    "central": "America/Chicago",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "mt": "America/Denver",
    "mountain": "America/Denver",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "pt": "America/Los_Angeles",
    "pacific": "America/Los_Angeles",
    "akst": "America/Anchorage",
    "alaska": "America/Anchorage",
    "hst": "Pacific/Honolulu",
    "hawaii": "Pacific/Honolulu",
}

# Canadian provinces and territories → zones (IANA zone.tab comments; Statistics Canada).
CA_PROVINCE_ZONES: dict[str, tuple[str, ...]] = {
    "NL": ("America/St_Johns",),
    "PE": ("America/Halifax",),
    "NS": ("America/Halifax",),
    "NB": ("America/Moncton",),
    "QC": ("America/Toronto", "America/Halifax"),
    "ON": ("America/Toronto", "America/Winnipeg"),
    "MB": ("America/Winnipeg",),
    "SK": ("America/Regina",),
    "AB": ("America/Edmonton",),
    "BC": ("America/Vancouver", "America/Edmonton"),
    "YT": ("America/Whitehorse",),
    "NT": ("America/Yellowknife",),
    "NU": ("America/Iqaluit", "America/Winnipeg"),
}


@dataclass(frozen=True)
class ZoneFacts:
    candidates: tuple[str, ...]
    explicit: str | None

    @property
    def ambiguous(self) -> bool:
        return self.explicit is None and len(self.candidates) != 1


def geographic_zones(e164_digits: str) -> tuple[str, ...]:
    """phonenumbers' zones for a geographic number by longest prefix (digits without '+')."""
    for length in range(min(TIMEZONE_LONGEST_PREFIX, len(e164_digits)), 0, -1):
        zones = TIMEZONE_DATA.get(e164_digits[:length])
        if zones is not None:
            return _known(zones)
    return ()


@functools.lru_cache(maxsize=1024)
def country_zones(country_code: int) -> tuple[str, ...]:
    """Zones of a whole calling code (for non-geographic numbers such as many mobiles)."""
    return geographic_zones(str(country_code))


def _known(zones: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(z for z in zones if z != UNKNOWN_ZONE)


@functools.lru_cache(maxsize=1)
def _available_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def parse_zone(text: str) -> str | None:
    """An IANA zone name (or a common US abbreviation) from a list cell; None if not one."""
    value = text.strip()
    if not value:
        return None
    if value in _available_zones():
        return value
    return US_ZONE_ALIASES.get(value.lower())


US_STATE_CODES = (
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
    "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VT", "VA", "WA", "WV", "WI", "WY", "PR", "VI", "GU", "AS", "MP", "AA", "AE", "AP",
)  # fmt: skip


US_ZIP_FILE = Path(__file__).parent / "data" / "us_zip_zones.tsv.gz"


def us_zip_rows_from_zipcodes() -> list[tuple[str, str, str]]:
    """(ZIP, state, zone) rows from the `zipcodes` package: the source of US_ZIP_FILE.

    Regenerate the file after upgrading `zipcodes` (a test compares the two):
    `python -c "from campaigns.zones import write_us_zip_file; write_us_zip_file()"`.
    """
    import zipcodes

    rows: list[tuple[str, str, str]] = []
    for state in US_STATE_CODES:
        for entry in zipcodes.filter_by(state=state):  # type: ignore[no-untyped-call]
            if entry.get("timezone"):
                rows.append((entry["zip_code"], state, entry["timezone"]))
    return sorted(rows)


def write_us_zip_file() -> None:
    text = "".join(f"{z}\t{s}\t{tz}\n" for z, s, tz in us_zip_rows_from_zipcodes())
    with gzip.GzipFile(US_ZIP_FILE, "wb", mtime=0) as fh:
        fh.write(text.encode())


@functools.lru_cache(maxsize=1)
def _us_zip_table() -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    """ZIP → zone and state → zones, loaded once per process from the compact US_ZIP_FILE.

    `zipcodes.list_all()` would materialise 42,000 dicts (~140 MB per worker process, ~1 s); the
    compact file loads in milliseconds and costs a few MB.
    """
    by_zip: dict[str, str] = {}
    by_state: dict[str, set[str]] = {}
    with gzip.open(US_ZIP_FILE, "rt", encoding="ascii") as fh:
        for line in fh:
            zip_code, state, zone = line.rstrip("\n").split("\t")
            zone = sys.intern(zone)
            by_zip[zip_code] = zone
            by_state.setdefault(state, set()).add(zone)
    return by_zip, {state: frozenset(zones) for state, zones in by_state.items()}


def zone_for_zip(postal_code: str) -> str | None:
    digits = postal_code.strip()[:5]
    if len(digits) != 5 or not digits.isdigit():
        return None
    return _us_zip_table()[0].get(digits)


def zones_for_region(country: str, region: str) -> frozenset[str]:
    code = region.strip().upper()
    if country == "US":
        return _us_zip_table()[1].get(code, frozenset())
    if country == "CA":
        return frozenset(CA_PROVINCE_ZONES.get(code, ()))
    return frozenset()


def narrow(
    candidates: tuple[str, ...], country: str, zone: str, postal_code: str, region: str
) -> ZoneFacts:
    """Apply the list's own hints, strongest first: zone column, US ZIP, then state/province."""
    explicit = parse_zone(zone) if zone else None
    if explicit:
        return ZoneFacts(candidates, explicit)
    if postal_code and country == "US":
        by_zip = zone_for_zip(postal_code)
        if by_zip:
            return ZoneFacts(candidates, by_zip)
    if region:
        allowed = zones_for_region(country, region)
        if allowed:
            # The address beats the number's coarse prefix data (+1 850 spans two zones but
            # phonenumbers names one), so the state's zones replace the candidates.
            narrowed = tuple(sorted(allowed))
            if len(narrowed) == 1:
                return ZoneFacts(candidates, narrowed[0])
            return ZoneFacts(narrowed, None)
    return ZoneFacts(candidates, None)
