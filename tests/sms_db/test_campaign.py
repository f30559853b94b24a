"""SMS campaigns end to end: template checks, leasing, the compliance gate, parking, no doubles."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg
import pytest

from campaigns.models import Campaign, ValidationError
from campaigns.sms_campaign import Template, parse_template
from compliance.consent_store import record_consent
from compliance.dnc_service import DncService
from compliance.gate import ComplianceGate
from config.vocabulary import Channel, Purpose, RuleSetName
from dialer.smpp.rate import DestinationSpacing
from dialer.smpp.runtime import sms_runtime
from dialer.smpp.sender import SenderConfig
from dialer.smpp.simulator import SmscServer
from dialer.smpp.smsc import SmscConfig
from dialer.sms_campaign import RunReport, SmsCampaignRunner
from storage.runtime import Storage
from tests.sms_db.campaign_setup import add_leads, phones, sms_campaign, zone_at_local_hour
from tests.sms_db.rig import client_config_for


def test_template_fields_are_checked_at_set_up() -> None:
    template = parse_template("Hi {first_name|there}, code {custom.code} {{ok}}", {"code"})
    lead = {"first_name": None, "custom": {"code": "42"}}
    assert template.render(lead) == "Hi there, code 42 {ok}"
    assert template.render({"first_name": "Анна", "custom": {}}) == "Hi Анна, code  {ok}"
    for bad in ("Hi {nickname}", "{first_name!r}", "{first_name:>9}", "{first_name.__class__}",
                "{custom.missing}", "Hi {", "{}", "  ", "{country|[}"):  # fmt: skip
        with pytest.raises(ValidationError):
            parse_template(bad, {"code"})


@asynccontextmanager
async def running(
    storage: Storage, campaign: Campaign, template: Template, smsc: SmscConfig | None = None
) -> AsyncIterator[tuple[SmsCampaignRunner, SmscServer]]:
    pool = storage.pool
    dnc = DncService(pool, storage.redis, default_region="RU")
    smsc = smsc or SmscConfig(receipt_delay_ms=5)
    async with (
        SmscServer(smsc) as server,
        ComplianceGate(pool, dnc, actor="pytest") as gate,
        sms_runtime(pool, campaign.tenant_id, client_config_for(server.port, smsc),
                    SenderConfig(source_addr="DIALER")) as rt,
    ):  # fmt: skip
        runner = SmsCampaignRunner(pool, gate, rt.sender, campaign, template, owner=rt.node,
                                   lock_conn=rt.worker.lock_conn,
                                   spacing=DestinationSpacing(0.0), batch=7)  # fmt: skip
        yield runner, server
        async with asyncio.timeout(20):
            await rt.client.drain()
            await rt.sender.wait_all_final()


async def messages_per_lead(pool: asyncpg.Pool, campaign: Campaign) -> dict[int, list[str]]:
    rows = await pool.fetch(
        "SELECT lead_id, body, status FROM sms_messages WHERE campaign_id = $1 ORDER BY id",
        campaign.id,
    )
    out: dict[int, list[str]] = {}
    for row in rows:
        out.setdefault(row["lead_id"], []).append(row["body"])
    return out


async def test_every_due_lead_is_texted_once_with_its_fields(
    storage: Storage, unique_name: str
) -> None:
    campaign = await sms_campaign(storage.pool, unique_name)
    names = [random.choice(["Anna", "Борис", None]) for _ in range(20)]
    codes = [{"code": i} for i in range(20)]
    lead_ids = await add_leads(storage.pool, campaign, phones(101, 20), zone_at_local_hour(12),
                               first_name=names, custom=codes)  # fmt: skip
    template = parse_template("Hi {first_name|there}, your code is {custom.code}.", {"code"})
    async with running(storage, campaign, template) as (runner, server):
        report = await runner.run()
        again = await runner.run()
    assert (report.sent, report.refused, report.failed, report.leased) == (20, 0, 0, 20)
    assert again.leased == 0 and again.sent == 0
    sent = await messages_per_lead(storage.pool, campaign)
    assert sorted(sent) == sorted(lead_ids) and all(len(v) == 1 for v in sent.values())
    for lead_id, name, i in zip(lead_ids, names, range(20), strict=True):
        assert sent[lead_id] == [f"Hi {name or 'there'}, your code is {i}."]
    statuses = await storage.pool.fetch(
        "SELECT status, attempt_count, lease_owner FROM leads WHERE campaign_id = $1", campaign.id
    )
    assert {(r["status"], r["attempt_count"], r["lease_owner"]) for r in statuses} == {
        ("done", 1, None)
    }
    assert server.state.stats.duplicates == 0 and server.state.stats.accepted == 20


async def test_max_stops_the_run_and_the_rest_stays_due(storage: Storage, unique_name: str) -> None:
    campaign = await sms_campaign(storage.pool, unique_name)
    await add_leads(storage.pool, campaign, phones(102, 12), zone_at_local_hour(12))
    async with running(storage, campaign, parse_template("Hello")) as (runner, _):
        first = await runner.run(max_messages=5)
        rest = await runner.run()
    assert (first.sent, rest.sent) == (5, 7)


async def test_refused_leads_are_parked_until_next_allowed_at(
    storage: Storage, unique_name: str
) -> None:
    """RU marketing: consent is required, and SMS only in the day on the callee's clock."""
    pool = storage.pool
    campaign = await sms_campaign(pool, unique_name, rule_set=RuleSetName.RU,
                                  purpose=Purpose.MARKETING)  # fmt: skip
    day, night = phones(103, 4), phones(104, 2)
    await add_leads(pool, campaign, day, zone_at_local_hour(13))
    night_ids = await add_leads(pool, campaign, night, zone_at_local_hour(3))
    now = datetime.now(UTC)
    for phone in day[:2] + night:  # consent for two day leads and both night leads
        await record_consent(pool, tenant_id=campaign.tenant_id, phone=phone,
                             channel=Channel.SMS, purpose=Purpose.MARKETING, source="pytest",
                             given_at=now)  # fmt: skip
    async with running(storage, campaign, parse_template("Sale!")) as (runner, server):
        report: RunReport = await runner.run()
    assert (report.sent, report.refused) == (2, 4), report.as_dict()
    assert server.state.stats.accepted == 2
    rows = await pool.fetch(
        "SELECT id, status, next_attempt_at, last_outcome FROM leads WHERE campaign_id = $1",
        campaign.id,
    )
    parked = {r["id"]: r for r in rows if r["status"] == "retry"}
    assert set(parked) == set(night_ids)
    for row in parked.values():
        assert row["next_attempt_at"] > now and "parked" in row["last_outcome"]
    refused_for_good = [r for r in rows if r["status"] == "done" and "refused" in r["last_outcome"]]
    assert len(refused_for_good) == 2
