"""DNC entries and bulk lists in PostgreSQL: scopes, channels, expiry, registry as-of, audit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg

from compliance.dnc_service import DncService
from compliance.gate import ComplianceGate, NumberPlace
from config.vocabulary import Channel, DncChannel, DncScope, Purpose, RuleSetName
from tests.compliance_db.conftest import make_campaign

NOON = datetime(2025, 6, 10, 17, 0, tzinfo=UTC)  # 12:00 in Chicago
CHICAGO = NumberPlace("US", region="IL", explicit_zone="America/Chicago")


async def verdict_rules(
    gate: ComplianceGate,
    phone: str,
    channel: Channel,
    *,
    campaign_id: int | None = None,
    purpose: Purpose = Purpose.SURVEY,
    now: datetime = NOON,
) -> list[str]:
    result = await gate.check_number(
        phone,
        channel,
        purpose,
        now,
        tenant_id=1,
        place=CHICAGO,
        campaign_id=campaign_id,
        rule_set=RuleSetName.US,
    )
    return [] if result.verdict.allowed else [r.rule for r in result.verdict.reasons]


async def test_entries_bind_their_scope_and_channel_only(db: asyncpg.Pool, dnc: DncService) -> None:
    mine = await make_campaign(db, "mine")
    other = await make_campaign(db, "other")
    phone = "+13125550142"
    change = await dnc.add(
        "(312) 555-0142",
        DncScope.CAMPAIGN,
        DncChannel.SMS,
        "sms-stop",
        tenant_id=1,
        campaign_id=mine,
        actor="test",
    )
    assert change.ok and change.phone == phone and change.published
    async with ComplianceGate(db, dnc) as gate:
        assert await verdict_rules(gate, phone, Channel.SMS, campaign_id=mine) == ["dnc.campaign"]
        assert await verdict_rules(gate, phone, Channel.CALL, campaign_id=mine) == []
        assert await verdict_rules(gate, phone, Channel.SMS, campaign_id=other) == []
        await dnc.add(phone, DncScope.TENANT, DncChannel.CALL, "agent", tenant_id=1)
        assert await verdict_rules(gate, phone, Channel.CALL, campaign_id=other) == ["dnc.tenant"]
        automated = await verdict_rules(gate, phone, Channel.AUTOMATED)
        assert set(automated) == {"dnc.tenant", "us.consent.automated"}
        await dnc.add(phone, DncScope.GLOBAL, DncChannel.ALL, "api")
        assert set(await verdict_rules(gate, phone, Channel.SMS, campaign_id=mine)) == {
            "dnc.campaign",
            "dnc.global",
        }
        removed = await dnc.remove(phone, DncScope.GLOBAL, DncChannel.ALL, actor="test")
        assert removed.ok and len(removed.entries) == 1
        assert await verdict_rules(gate, phone, Channel.SMS, campaign_id=other) == []
    again = await dnc.remove(phone, DncScope.GLOBAL, DncChannel.ALL)
    assert not again.ok and again.error == "no such entry"
    actions = [
        r["action"]
        for r in await db.fetch(
            "SELECT action FROM audit_log WHERE subject = $1 AND action LIKE 'dnc.%' ORDER BY id",
            phone,
        )
    ]
    assert actions == ["dnc.add", "dnc.add", "dnc.add", "dnc.remove", "dnc.remove"]


async def test_expiring_entry_refuses_until_it_expires(db: asyncpg.Pool, dnc: DncService) -> None:
    phone = "+13125550143"
    until = NOON + timedelta(hours=2)
    await dnc.add(phone, DncScope.GLOBAL, DncChannel.CALL, "agent", expires_at=until)
    async with ComplianceGate(db, dnc) as gate:
        before = await gate.check_number(
            phone, Channel.CALL, Purpose.SURVEY, NOON, tenant_id=1, place=CHICAGO
        )
        after = await gate.check_number(
            phone, Channel.CALL, Purpose.SURVEY, until, tenant_id=1, place=CHICAGO
        )
    assert [r.rule for r in before.verdict.reasons] == ["dnc.global"]
    assert before.verdict.next_allowed_at == until
    assert after.verdict.allowed
    status = await dnc.check(phone, channel=Channel.CALL, now=until)
    assert not status.listed and len(status.entries) == 1
    assert await dnc.purge_expired(until + timedelta(seconds=1)) == 1


async def test_bad_numbers_and_missing_owners_are_values_not_errors(dnc: DncService) -> None:
    bad = await dnc.add("not a number", DncScope.GLOBAL, DncChannel.ALL, "api")
    assert not bad.ok and "not a number" in (bad.error or "")
    orphan = await dnc.add("+13125550144", DncScope.CAMPAIGN, DncChannel.ALL, "api")
    assert not orphan.ok and "campaign" in (orphan.error or "")


async def test_registry_import_as_of_and_the_31_day_rule(
    db: asyncpg.Pool, dnc: DncService, tmp_path: Path
) -> None:
    path = tmp_path / "registry.csv"
    path.write_text("area_code,phone_number\n312,5550150\n312,5550151\n312,5550151\nxx,yy\n")
    report = await dnc.import_file(
        path, scope=DncScope.GLOBAL, channel=DncChannel.ALL, as_of=date(2025, 6, 1), country_code=1
    )
    assert (report["rows"], report["imported"], report["duplicates"], report["invalid"]) == (
        4,
        2,
        1,
        1,
    )
    assert not report["fast_path"]
    clean = "+13125550160"
    async with ComplianceGate(db, dnc) as gate:
        ok = await verdict_rules(gate, clean, Channel.CALL, purpose=Purpose.MARKETING)
        listed = await verdict_rules(gate, "+13125550151", Channel.CALL, purpose=Purpose.MARKETING)
        stale_day = datetime(2025, 7, 3, 17, 0, tzinfo=UTC)  # 32 days after the as-of date
        stale = await verdict_rules(
            gate, clean, Channel.CALL, purpose=Purpose.MARKETING, now=stale_day
        )
        still_fine = await verdict_rules(gate, clean, Channel.CALL, now=stale_day)  # survey
    assert ok == [] and listed == ["dnc.registry"] and stale == ["us.registry_age"]
    assert still_fine == []
    status = await dnc.check("312-555-0151")
    assert status.listed and status.lists[0].as_of == date(2025, 6, 1)
    fresh = tmp_path / "fresh.txt"
    fresh.write_text("3125550160\n")
    second = await dnc.import_file(
        fresh, scope=DncScope.GLOBAL, channel=DncChannel.ALL, as_of=date(2025, 7, 2), country_code=1
    )
    assert second["fast_path"] and second["replaced"] == [report["import_id"]]
    assert not (await dnc.check("+13125550151")).listed  # the old copy is gone
    assert (await dnc.check("+13125550160")).listed
    partitions = await db.fetchval(
        "SELECT count(*) FROM pg_inherits WHERE inhparent = 'dnc_bulk_numbers'::regclass"
    )
    assert partitions == 1


async def test_no_registry_copy_refuses_us_marketing(db: asyncpg.Pool, dnc: DncService) -> None:
    async with ComplianceGate(db, dnc) as gate:
        rules = await verdict_rules(gate, "+13125550170", Channel.CALL, purpose=Purpose.MARKETING)
    assert rules == ["us.registry_age"]
