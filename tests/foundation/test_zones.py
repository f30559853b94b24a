"""Zone data, number reading and classification stay equal to their sources (zipcodes,
phonenumbers)."""

from __future__ import annotations

import gzip

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import phonenumberutil

from campaigns.normalise import (
    NANP_SPELLING,
    ValidNumber,
    classify,
    normalise_phone,
    number_type,
    parse_nanp,
)
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
    found = classify(country_code, phonenumberutil.national_significant_number(number))
    assert (found is not None) == phonenumbers.is_valid_number(number)
    if found is not None:
        assert found[0] == phonenumbers.region_code_for_number(number)


REGIONS = st.sampled_from(["US", "CA", "PR", "JM", "GB", "DE", "RU", "FR", "AU"])
SEPARATOR = st.sampled_from(["", " ", "-", ".", "  ", "/", "(", ")", "x", "ext. ", "+"])
nanp_like = st.builds(
    lambda parts, seps: "".join(s + p for s, p in zip(seps, parts, strict=False)),
    st.tuples(
        st.sampled_from(["", "1", "+1", "+", "01", "011", "+44"]),
        st.text(alphabet="0123456789", min_size=3, max_size=3),
        st.text(alphabet="0123456789", min_size=3, max_size=3),
        st.text(alphabet="0123456789", min_size=3, max_size=5),
    ),
    st.lists(SEPARATOR, min_size=4, max_size=4),
)


def reference_national_number(text: str, region: str) -> tuple[int | None, int | None] | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    plain = phonenumbers.PhoneNumber(
        country_code=number.country_code, national_number=number.national_number
    )
    if number != plain:
        return None  # an extension, a leading zero, …: not a plain number
    return number.country_code, number.national_number


@settings(max_examples=600, deadline=None)
@given(
    text=st.one_of(st.from_regex(NANP_SPELLING, fullmatch=True), nanp_like),
    region=REGIONS,
)
def test_nanp_fast_path_reads_what_phonenumbers_reads(text: str, region: str) -> None:
    fast = parse_nanp(text, region)
    if fast is not None:
        assert reference_national_number(text, region) == (1, fast)


@pytest.mark.parametrize(
    "text",
    ["(212) 200-0000", "212-200-0000", "+12122000000", "212.200.0000", "+1 212 200 0000",
     "12122000000", "1-212-200-0000", "2122000000"],
)  # fmt: skip
def test_nanp_fast_path_takes_the_common_spellings(text: str) -> None:
    assert parse_nanp(text, "US") == 2122000000
    assert parse_nanp(text, "GB") == (2122000000 if text.startswith("+1") else None)


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(st.from_regex(NANP_SPELLING, fullmatch=True), nanp_like), region=REGIONS)
def test_normalised_numbers_equal_phonenumbers_e164_and_validity(text: str, region: str) -> None:
    result = normalise_phone(text, region)
    try:
        number = phonenumbers.parse(text, region)
        valid = phonenumbers.is_valid_number(number)
    except phonenumbers.NumberParseException:
        valid = False
    assert isinstance(result, ValidNumber) == valid
    if isinstance(result, ValidNumber):
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        assert result.e164 == e164
        assert result.region == phonenumbers.region_code_for_number(number)


@settings(max_examples=600, deadline=None)
@given(
    region=st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)),
    digits=st.text(alphabet="0123456789", min_size=2, max_size=17),
)
def test_number_type_is_phonenumbers_own(region: str, digits: str) -> None:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    assert metadata is not None
    expected = phonenumberutil._number_type_helper(digits, metadata)
    assert number_type(digits, metadata) == expected


def test_number_type_on_every_region_example() -> None:
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        assert metadata is not None
        for kind in phonenumbers.PhoneNumberType.values():
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            nsn = phonenumberutil.national_significant_number(example)
            assert number_type(nsn, metadata) == phonenumberutil._number_type_helper(nsn, metadata)


def test_zone_parsing_and_narrowing() -> None:
    assert parse_zone("Europe/Moscow") == "Europe/Moscow"
    assert parse_zone("est") == "America/New_York"
    assert parse_zone("Mars/Olympus") is None
    by_zip = narrow(("America/New_York",), "US", "", "32501-1234", "")
    assert by_zip.explicit == "America/Chicago"
    by_state = narrow(("America/New_York",), "US", "", "", "TX")
    assert by_state.explicit is None and "America/Chicago" in by_state.candidates
    assert narrow((), "US", "", "", "NY").explicit == "America/New_York"
