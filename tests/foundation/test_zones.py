"""Zone data and number classification stay equal to their sources (zipcodes, phonenumbers)."""

from __future__ import annotations

import gzip

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.normalise import classify
from campaigns.zones import US_ZIP_FILE, narrow, parse_zone, us_zip_rows_from_zipcodes


def test_shipped_zip_table_equals_zipcodes() -> None:
    with gzip.open(US_ZIP_FILE, "rt", encoding="ascii") as fh:
        shipped = [tuple(line.rstrip("\n").split("\t")) for line in fh]
    assert shipped == us_zip_rows_from_zipcodes(), "regenerate with write_us_zip_file()"


@settings(max_examples=400, deadline=None)
@given(
    country_code=st.sampled_from([1, 7, 44, 49, 33, 39, 61, 86, 91, 55, 800, 380, 1]),
    digits=st.text(alphabet="0123456789", min_size=3, max_size=13),
)
def test_classify_agrees_with_is_valid_number(country_code: int, digits: str) -> None:
    try:
        number = phonenumbers.parse(f"+{country_code}{digits}", None)
    except phonenumbers.NumberParseException:
        return
    found = classify(number)
    assert (found is not None) == phonenumbers.is_valid_number(number)
    if found is not None:
        assert found[0] == phonenumbers.region_code_for_number(number)


def test_zone_parsing_and_narrowing() -> None:
    assert parse_zone("Europe/Moscow") == "Europe/Moscow"
    assert parse_zone("est") == "America/New_York"
    assert parse_zone("Mars/Olympus") is None
    by_zip = narrow(("America/New_York",), "US", "", "32501-1234", "")
    assert by_zip.explicit == "America/Chicago"
    by_state = narrow(("America/New_York",), "US", "", "", "TX")
    assert by_state.explicit is None and "America/Chicago" in by_state.candidates
    assert narrow((), "US", "", "", "NY").explicit == "America/New_York"
