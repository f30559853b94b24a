"""The gate on real leads in PostgreSQL: facts gathered, verdicts right, permits, audit rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import numpy as np
import pytest
import redis.asyncio as aioredis

from campaigns.lead_import import ImportOptions, import_list
from compliance.dnc_cache import DncCache
from compliance.dnc_service import DncService
from compliance.gate import ComplianceGate, NumberPlace
from config.vocabulary import Channel, DialMode, DncChannel, DncScope, Purpose, RuleSetName
from tests.compliance_db.conftest import add_attempt, make_campaign, make_lead

CHI = ZoneInfo("America/Chicago")
NOON = datetime(2025, 6, 10, 12, 0, tzinfo=CHI)  # a Tuesday
AS_OF = date(2025, 6, 1)


async def load_registry(dnc: DncService, tmp_path: Path, numbers: list[str], as_of: date) -> None:
    path = tmp_path / "registry.txt"
    path.write_text("".join(n + "\n" for n in numbers))
    report = await dnc.import_file(
        path, scope=DncScope.GLOBAL, channel=DncChannel.ALL, as_of=as_of, country_code=None
    )
    assert report["ok"] and report["imported"] == len(numbers)


async def audit_rows(db: asyncpg.Pool, subject: str) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT * FROM audit_log WHERE action = 'compliance.verdict' AND subject = $1 ORDER BY id",
        subject,
    )


async def test_imported_leads_get_verdicts_and_every_one_is_audited(
    db: asyncpg.Pool, dnc: DncService, redis: aioredis.Redis, tmp_path: Path
) -> None:
    campaign = await make_campaign(db, "imported")
    csv_path = tmp_path / "leads.csv"
    csv_path.write_text("phone,zip\n(312) 555-0123,60601\n(212) 555-0199,10001\n")
    summary = await import_list(db, "default", "imported", csv_path, ImportOptions())
    assert summary.imported == 2
    await load_registry(dnc, tmp_path, ["+12125550199"], AS_OF)
    ids = {r["phone"]: r["id"] for r in await db.fetch("SELECT id, phone FROM leads")}
    async with DncCache(db, redis) as cache, ComplianceGate(db, cache, actor="node-a") as gate:
        chicago = await gate.check(ids["+13125550123"], Channel.CALL, Purpose.MARKETING, NOON)
        on_registry = await gate.check(ids["+12125550199"], Channel.CALL, Purpose.MARKETING, NOON)
        night = await gate.check(
            ids["+13125550123"],
            Channel.CALL,
            Purpose.MARKETING,
            NOON + timedelta(hours=9, minutes=5),
        )
    assert chicago.allowed and chicago.permit is not None
    assert chicago.permit.lead_id == ids["+13125550123"] and chicago.permit.campaign_id == campaign
    assert chicago.verdict.zones == ("America/Chicago",)
    assert not on_registry.allowed and on_registry.permit is None
    assert [r.rule for r in on_registry.verdict.reasons] == ["dnc.registry"]
    assert not night.allowed
    assert any(
        str(r).startswith("us.calling_hours: 21:05 America/Chicago is after 21:00")
        for r in night.verdict.reasons
    )
    assert night.verdict.next_allowed_at == datetime(2025, 6, 11, 8, 0, tzinfo=CHI)
    rows = await audit_rows(db, f"lead:{ids['+13125550123']}")
    assert [r["allowed"] for r in rows] == [True, False]
    assert rows[1]["reasons"] == [str(r) for r in night.verdict.reasons]
    assert rows[0]["actor"] == "node-a" and rows[0]["data"]["permit_expires_at"]
    assert rows[1]["data"]["next_allowed_at"] == "2025-06-11T13:00:00Z"
    refused = await audit_rows(db, f"lead:{ids['+12125550199']}")
    assert [r["allowed"] for r in refused] == [False]


async def test_audit_log_refuses_update_and_delete_of_verdicts(
    db: asyncpg.Pool, dnc: DncService
) -> None:
    async with ComplianceGate(db, dnc) as gate:
        await gate.check_number(
            "+447911123456",
            Channel.CALL,
            Purpose.SURVEY,
            NOON,
            tenant_id=1,
            place=NumberPlace("GB", explicit_zone="Europe/London"),
        )
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE subject = '+447911123456'") == 1
    for statement in ("UPDATE audit_log SET allowed = NOT allowed", "DELETE FROM audit_log"):
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await db.execute(statement)


async def test_unknown_lead_and_broken_settings_are_audited_refusals(
    db: asyncpg.Pool, dnc: DncService
) -> None:
    broken = await make_campaign(db, "broken", settings={"compliance": {"lead_caps": [{"x": 1}]}})
    lead = await make_lead(db, broken, "+13125550100", zones=("America/Chicago",))
    async with ComplianceGate(db, dnc) as gate:
        missing = await gate.check(999_999, Channel.CALL, Purpose.SURVEY, NOON)
        bad = await gate.check(lead, Channel.CALL, Purpose.SURVEY, NOON)
    assert missing.verdict.reasons[0].rule == "gate.lead" and missing.permit is None
    assert bad.verdict.reasons[0].rule == "campaign.settings"
    assert "lead_caps" in bad.verdict.reasons[0].detail
    assert len(await audit_rows(db, "lead:999999")) == 1


async def test_caps_gaps_and_cooldowns_come_from_the_attempts_table(
    db: asyncpg.Pool, dnc: DncService
) -> None:
    settings = {
        "compliance": {
            "lead_caps": [{"max_attempts": 2, "window_s": 86_400}],
            "min_gap_s": 3600,
            "machine_cooldown_s": 86_400,
        }
    }
    campaign = await make_campaign(
        db,
        "caps",
        rule_set=RuleSetName.UK,
        purpose=Purpose.SURVEY,
        settings=settings,
    )
    london = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
    lead = await make_lead(db, campaign, "+447911123456", country="GB", explicit="Europe/London")
    async with ComplianceGate(db, dnc) as gate:
        first = await gate.check(lead, Channel.CALL, Purpose.SURVEY, london)
        await add_attempt(
            db,
            campaign_id=campaign,
            lead_id=lead,
            phone="+447911123456",
            at=london - timedelta(minutes=30),
            outcome="answered",
            amd="machine",
        )
        gap = await gate.check(lead, Channel.CALL, Purpose.SURVEY, london)
    assert first.allowed
    rules = {r.rule for r in gap.verdict.reasons}
    assert rules == {"campaign.lead_cap", "campaign.cooldown.amd_machine"}
    # the gap lifts after an hour, the campaign's machine cool-down after 24 h: the later wins
    assert gap.verdict.next_allowed_at == london - timedelta(minutes=30) + timedelta(hours=24)


async def test_abandon_ledger_refuses_paced_calls_when_the_budget_is_spent(
    db: asyncpg.Pool, dnc: DncService
) -> None:
    campaign = await make_campaign(
        db, "paced", rule_set=RuleSetName.UK, purpose=Purpose.SURVEY, mode=DialMode.PREDICTIVE
    )
    await db.execute("UPDATE campaigns SET safe_harbour_message = 'sh.wav' WHERE id = $1", campaign)
    now = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
    await db.execute(  # 40 agent-handled humans: 3 % allows one drop (40·0.03/0.97 = 1.2)
        "INSERT INTO attempts (tenant_id, campaign_id, channel, phone, created_at, ended_at, "
        "outcome, amd_result) SELECT 1, $1, 'call', '+4479111234' || lpad(i::text, 2, '0'), "
        "$2, $2, 'answered', 'human' FROM generate_series(1, 40) i",
        campaign,
        now - timedelta(hours=1),
    )
    lead = await make_lead(db, campaign, "+447911999999", country="GB", explicit="Europe/London")
    async with ComplianceGate(db, dnc, ledger_ttl_s=0.0) as gate:
        fine = await gate.check(lead, Channel.CALL, Purpose.SURVEY, now)
        await add_attempt(
            db,
            campaign_id=campaign,
            lead_id=None,
            phone="+447911000001",
            at=now - timedelta(minutes=5),
            outcome="abandoned",
        )
        spent = await gate.check(lead, Channel.CALL, Purpose.SURVEY, now)
    assert fine.allowed
    assert [r.rule for r in spent.verdict.reasons] == ["abandon.cap"]
    assert "rolling_24h" in spent.verdict.reasons[0].detail


async def test_registry_hit_from_a_ten_thousand_number_copy_loaded_by_the_cache(
    db: asyncpg.Pool, dnc: DncService, redis: aioredis.Redis, tmp_path: Path
) -> None:
    rng = np.random.default_rng(3)
    numbers = [f"+1{n}" for n in rng.choice(np.arange(3_125_550_000, 3_125_560_000), 5000, False)]
    await load_registry(dnc, tmp_path, numbers, AS_OF)
    campaign = await make_campaign(db, "reg")
    on_list = await make_lead(db, campaign, numbers[17], region="IL", zones=("America/Chicago",))
    async with DncCache(db, redis) as cache, ComplianceGate(db, cache) as gate:
        assert len(cache.index) == 5000
        refused = await gate.check(on_list, Channel.CALL, Purpose.MARKETING, NOON)
        survey = await gate.check(on_list, Channel.CALL, Purpose.SURVEY, NOON)
    assert [r.rule for r in refused.verdict.reasons] == ["dnc.registry"]
    assert survey.allowed  # registry copies bind marketing only
