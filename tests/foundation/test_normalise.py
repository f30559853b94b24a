"""Staging rows: custom fields as JSON and COPY escaping survive any text a list can hold."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.columns import ColumnMap
from campaigns.normalise import RowLayout, ValidNumber, _custom_json, staging_line

any_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)


@settings(max_examples=300, deadline=None)
@given(names=st.lists(any_text, min_size=1, max_size=4, unique=True), data=st.data())
def test_custom_fields_are_the_json_object_of_their_columns(
    names: list[str], data: st.DataObject
) -> None:
    values = data.draw(st.lists(any_text, min_size=len(names), max_size=len(names)))
    layout = RowLayout.of(ColumnMap(phone=0, custom={n: i + 1 for i, n in enumerate(names)}))
    fields = ["+12125550100", *values]
    expected: dict[str, str] = {}
    for name, value in zip(names, values, strict=True):
        if value:
            expected[name.replace("\x00", "")] = value.replace("\x00", "")
    assert json.loads(_custom_json(fields, layout.custom)) == expected


@settings(max_examples=200, deadline=None)
@given(first=any_text, custom=any_text)
def test_staging_line_has_twelve_columns_whatever_the_text(first: str, custom: str) -> None:
    columns = ColumnMap(phone=0, single={"first_name": 1}, custom={"note": 2})
    number = ValidNumber("+12125550100", "US", ("America/New_York",))
    line = staging_line(7, ["2125550100", first, custom], RowLayout.of(columns), number)
    assert line.endswith("\n") and line.count("\n") == 1
    cells = line[:-1].split("\t")
    assert len(cells) == 12
    assert cells[:3] == ["7", "+12125550100", "{}"]
    expected_first = first.strip().replace("\x00", "")
    assert cells[3] == "\\N" if not first.strip() else copy_text(cells[3]) == expected_first
    note = json.loads(copy_text(cells[11])).get("note") if custom else None
    assert note == (custom.replace("\x00", "") if custom else None)


def copy_text(cell: str) -> str:
    """A COPY text-format cell back to its value."""
    escapes = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes[m.group(1)], cell)
