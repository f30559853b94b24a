"""List import against the real embedded PostgreSQL: exact counts, line numbers, formats, zones."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns import service
from campaigns.lead_import import ImportOptions, ImportSummary, import_list
from campaigns.models import CampaignDraft, ValidationError
from cli.listgen import ListSpec, write_list
from storage.runtime import Storage


async def new_campaign(storage: Storage, name: str, country: str = "US") -> str:
    draft = CampaignDraft(name=name, default_country=country)
    await service.create_campaign(storage.pool, "default", draft, actor="test")
    return name


async def run_import(
    storage: Storage, campaign: str, path: Path, **options: object
) -> ImportSummary:
    opts = ImportOptions(errors_path=path.with_suffix(".err.csv"), **options)  # type: ignore[arg-type]
    summary = await import_list(storage.pool, "default", campaign, path, opts)
    assert summary.rows == summary.imported + summary.invalid + summary.duplicates
    return summary


async def leads_of(storage: Storage, campaign: str) -> list[dict[str, Any]]:
    rows = await storage.pool.fetch(
        "SELECT l.* FROM leads l JOIN campaigns c ON c.id = l.campaign_id "
        "WHERE c.name = $1 ORDER BY l.list_id, l.source_line",
        campaign,
    )
    return [dict(r) for r in rows]


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


async def test_bad_rows_are_reported_with_line_numbers_and_good_rows_import(
    storage: Storage, tmp_path: Path, unique_name: str
) -> None:
    campaign = await new_campaign(storage, unique_name)
    path = write(
        tmp_path / "list.csv",
        "name,phone,notes\n"
        "A,(415) 555-2671,ok\n"
        'B,+1 212 555 0100,"two\nlines"\n'
        "C,not a phone,x\n"
        "\n"
        "D,,empty\n"
        "E,123,short\n"
        "F,415.555.2671,same as A\n"
        "G,+44 20 7946 0958,uk\n",
    )
    summary = await run_import(storage, campaign, path)
    assert (summary.rows, summary.imported, summary.invalid, summary.duplicates) == (7, 3, 3, 1)
    assert [(e["line"], e["raw_phone"]) for e in summary.errors] == [
        (5, "not a phone"),
        (7, ""),
        (8, "123"),
    ]
    report = list(csv.reader(path.with_suffix(".err.csv").open()))
    assert report[0] == ["line", "reason", "raw_phone"]
    assert [r[0] for r in report[1:]] == ["5", "7", "8", "9"]  # 9: the duplicate
    leads = await leads_of(storage, campaign)
    assert [(lead["phone"], lead["source_line"]) for lead in leads] == [
        ("+14155552671", 2),
        ("+12125550100", 3),
        ("+442079460958", 10),
    ]
    assert leads[1]["first_name"] == "B"  # "name" is recognised as the first name
    assert leads[1]["custom"] == {"notes": "two\nlines"}


async def test_bom_semicolons_and_cp1251(
    storage: Storage, tmp_path: Path, unique_name: str
) -> None:
    campaign = await new_campaign(storage, unique_name, country="RU")
    bom = write(tmp_path / "bom.csv", "\ufeffphone;first_name\n+7 912 345-67-89;Ivan\n")
    summary = await run_import(storage, campaign, bom)
    assert (summary.encoding, summary.delimiter, summary.imported) == ("utf-8-sig", ";", 1)
    cyr = write(
        tmp_path / "ru.csv",
        "Телефон;Имя;Город\n8 (495) 123-45-67;Пётр;Москва\n8 912 000 00 01;Анна;Пермь\n",
        encoding="cp1251",
    )
    summary = await run_import(storage, campaign, cyr)
    assert (summary.encoding, summary.imported, summary.invalid) == ("cp1251", 2, 0)
    leads = await leads_of(storage, campaign)
    assert leads[-2]["first_name"] == "Пётр"
    assert leads[-2]["custom"] == {"Город": "Москва"}
    assert leads[-2]["tz_candidates"] == ["Europe/Moscow"]


async def test_tabs_and_headerless_files(
    storage: Storage, tmp_path: Path, unique_name: str
) -> None:
    campaign = await new_campaign(storage, unique_name)
    tabbed = write(tmp_path / "t.tsv", "Phone Number\tEmail\n2125550100\ta@x.org\n")
    assert (await run_import(storage, campaign, tabbed)).imported == 1
    bare = write(tmp_path / "bare.csv", "Ann,3125550188\nBob,3125550189\nCal,nope\n")
    summary = await run_import(storage, campaign, bare)
    assert (summary.rows, summary.imported, summary.invalid) == (3, 2, 1)


async def test_empty_and_header_only_files(
    storage: Storage, tmp_path: Path, unique_name: str
) -> None:
    campaign = await new_campaign(storage, unique_name)
    for text in ("", "\n\n", "phone,name\n", "phone,name\n\n"):
        summary = await run_import(storage, campaign, write(tmp_path / "e.csv", text))
        assert (summary.rows, summary.imported) == (0, 0)


async def test_very_long_fields(storage: Storage, tmp_path: Path, unique_name: str) -> None:
    campaign = await new_campaign(storage, unique_name)
    huge = "x" * 1_000_000
    path = write(
        tmp_path / "long.csv",
        f'phone,notes\n"{"9" * 10_000}",a\n2125550100,"{huge}"\n',
    )
    summary = await run_import(storage, campaign, path)
    assert (summary.imported, summary.invalid) == (1, 1)
    assert "too long" in summary.errors[0]["reason"]
    assert len(summary.errors[0]["raw_phone"]) <= 64
    leads = await leads_of(storage, campaign)
    assert leads[0]["custom"]["notes"] == huge


async def test_duplicates_in_other_formats_and_against_the_campaign(
    storage: Storage, tmp_path: Path, unique_name: str
) -> None:
    campaign = await new_campaign(storage, unique_name)
    first = write(tmp_path / "a.csv", "phone\n(212) 555-0100\n+1 212 555 0100\n12125550100\n")
    summary = await run_import(storage, campaign, first)
    assert (summary.imported, summary.duplicates) == (1, 2)
    second = write(tmp_path / "b.csv", "phone\n212.555.0100\n2125550101\n")
    summary = await run_import(storage, campaign, second)
    assert (summary.imported, summary.duplicates) == (1, 1)


async def test_explicit_map_and_alternate_phones(
    storage: Storage, tmp_path: Path, unique_name: str
) -> None:
    campaign = await new_campaign(storage, unique_name)
    path = write(
        tmp_path / "m.csv",
        "Contact,Main,Home,Other\nAnn,2125550100,2125550111,bad\nBob,bad,2125550122,\n",
    )
    summary = await run_import(
        storage, campaign, path, column_map="phone=Main,first_name=Contact,alt_phones=Home"
    )
    assert (summary.rows, summary.imported, summary.invalid) == (2, 1, 1)
    leads = await leads_of(storage, campaign)
    assert leads[0]["alt_phones"] == ["+12125550111"]
    with pytest.raises(ValidationError, match="map"):
        await run_import(storage, campaign, path, column_map="phone=Nope")


async def test_zone_narrowing(storage: Storage, tmp_path: Path, unique_name: str) -> None:
    campaign = await new_campaign(storage, unique_name)
    path = write(
        tmp_path / "z.csv",
        "phone,zip,state,timezone\n"
        "+1 850 555 0101,32501,,\n"  # ZIP → Chicago although +1 850 says New York
        "+1 850 555 0102,,FL,\n"  # Florida spans two zones: ambiguous
        "+1 850 555 0103,,,PST\n"  # explicit zone column
        "+1 850 555 0104,,,\n"  # number only: one candidate
        "+7 912 345 67 89,,,\n",  # Russian mobile: many zones
    )
    summary = await run_import(storage, campaign, path)
    assert summary.ambiguous_zone == 2
    assert summary.zone_hint is not None
    leads = await leads_of(storage, campaign)
    assert leads[0]["tz_explicit"] == "America/Chicago"
    assert leads[1]["tz_explicit"] is None
    assert sorted(leads[1]["tz_candidates"]) == ["America/Chicago", "America/New_York"]
    assert leads[2]["tz_explicit"] == "America/Los_Angeles"
    assert leads[3]["tz_candidates"] == ["America/New_York"]
    assert len(leads[4]["tz_candidates"]) > 5


async def test_process_pool_path_counts_exactly(
    storage: Storage, tmp_path: Path, unique_name: str
) -> None:
    campaign = await new_campaign(storage, unique_name)
    path = tmp_path / "big.csv"
    expected = write_list(path, ListSpec(rows=40_000, seed=7))
    assert path.stat().st_size > 2 << 20  # large enough for worker processes
    summary = await run_import(storage, campaign, path, workers=2, chunk_rows=2000)
    assert summary.rows == expected.rows
    assert (summary.invalid, summary.duplicates) == (expected.invalid, expected.duplicates)


CELL = st.one_of(
    st.text(alphabet="0123456789 +-().", max_size=18),
    st.sampled_from(["2125550100", "+442079460958", "+79123456789", "(415) 555-2671", ""]),
    st.text(max_size=12),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.tuples(CELL, CELL), max_size=30))
async def test_every_imported_lead_is_valid_e164_with_zones(
    storage: Storage, tmp_path: Path, rows: list[tuple[str, str]]
) -> None:
    import uuid

    campaign = await new_campaign(storage, f"prop {uuid.uuid4().hex[:10]}")
    path = tmp_path / f"{uuid.uuid4().hex}.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["phone", "note"])
        writer.writerows(rows)
    summary = await run_import(storage, campaign, path)
    leads = await leads_of(storage, campaign)
    assert len(leads) == summary.imported
    for lead in leads:
        number = phonenumbers.parse(str(lead["phone"]), None)
        assert phonenumbers.is_valid_number(number)
        assert (
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == lead["phone"]
        )
        assert lead["tz_explicit"] or lead["tz_candidates"]


async def test_unwritable_error_report_is_a_clear_error(
    storage: Storage, tmp_path: Path, unique_name: str
) -> None:
    campaign = await new_campaign(storage, unique_name)
    path = write(tmp_path / "ok.csv", "phone\n2125550100\n")
    options = ImportOptions(errors_path=tmp_path / "missing-folder" / "e.csv")
    with pytest.raises(ValidationError, match="--errors"):
        await import_list(storage.pool, "default", campaign, path, options)


async def test_nul_characters_never_fail_the_import(
    storage: Storage, tmp_path: Path, unique_name: str
) -> None:
    campaign = await new_campaign(storage, unique_name)
    path = write(tmp_path / "nul.csv", "phone,first_name,note\x00x\n2125550100,A\x00n,b\x00c\n")
    summary = await run_import(storage, campaign, path)
    assert summary.imported == 1
    lead = (await leads_of(storage, campaign))[0]
    assert lead["first_name"] == "An" and lead["custom"] == {"notex": "bc"}


async def test_a_failing_batch_rolls_the_whole_import_back(
    storage: Storage, tmp_path: Path, unique_name: str
) -> None:
    """PostgreSQL refuses a lead of the second batch (a trigger raises): the error reaches the
    caller while later batches are still being normalised, and nothing of the list remains."""
    campaign = await new_campaign(storage, unique_name)
    campaign_id = await storage.pool.fetchval("SELECT id FROM campaigns WHERE name = $1", campaign)
    path = tmp_path / "big.csv"
    write_list(path, ListSpec(rows=80_000))
    function = f"refuse_{campaign_id}"
    await storage.pool.execute(
        f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF NEW.campaign_id = {campaign_id} AND NEW.source_line > 40000 THEN "
        "RAISE EXCEPTION 'refused by the test trigger'; END IF; RETURN NEW; END $$"
    )
    await storage.pool.execute(
        f"CREATE TRIGGER {function} BEFORE INSERT ON leads "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()"
    )
    try:
        with pytest.raises(Exception, match="refused by the test trigger"):
            await run_import(storage, campaign, path)
    finally:
        await storage.pool.execute(f"DROP TRIGGER {function} ON leads")
        await storage.pool.execute(f"DROP FUNCTION {function}()")
    assert await leads_of(storage, campaign) == []
    lists = await storage.pool.fetchval(
        "SELECT count(*) FROM lists WHERE campaign_id = $1", campaign_id
    )
    assert lists == 0
