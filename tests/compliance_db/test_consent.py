"""Consent records: required where the rule set says, revocation binds, objections under `eu`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from compliance.consent_store import consents_for, record_consent, revoke_consent
from compliance.dnc_service import DncService
from compliance.gate import ComplianceGate, NumberPlace
from config.vocabulary import Channel, Purpose, RuleSetName

NOON = datetime(2025, 6, 10, 17, 0, tzinfo=UTC)
PHONE = "+13125550177"
CHICAGO = NumberPlace("US", region="IL", explicit_zone="America/Chicago")
PARIS = NumberPlace("FR", explicit_zone="Europe/Paris")


async def sms_survey_rules(gate: ComplianceGate, phone: str, at: datetime) -> list[str]:
    result = await gate.check_number(
        phone,
        Channel.AUTOMATED,
        Purpose.SURVEY,
        at,
        tenant_id=1,
        place=CHICAGO,
        rule_set=RuleSetName.US,
    )
    return [] if result.verdict.allowed else [r.rule for r in result.verdict.reasons]


async def test_consent_allows_until_revoked(db: asyncpg.Pool, dnc: DncService) -> None:
    async with ComplianceGate(db, dnc) as gate:
        assert await sms_survey_rules(gate, PHONE, NOON) == ["us.consent.automated"]
        await record_consent(
            db,
            tenant_id=1,
            phone=PHONE,
            channel=Channel.AUTOMATED,
            purpose=Purpose.SURVEY,
            source="web form",
            given_at=NOON - timedelta(days=3),
            evidence="form 42",
        )
        assert await sms_survey_rules(gate, PHONE, NOON) == []
        revoked = await revoke_consent(
            db,
            tenant_id=1,
            phone=PHONE,
            channel=Channel.AUTOMATED,
            source="ivr opt-out",
            at=NOON + timedelta(hours=1),
        )
        assert revoked == 1
        assert await sms_survey_rules(gate, PHONE, NOON) == []  # before the revocation
        later = NOON + timedelta(hours=2)
        assert await sms_survey_rules(gate, PHONE, later) == ["us.consent.automated"]
    again = await revoke_consent(
        db,
        tenant_id=1,
        phone=PHONE,
        channel=Channel.AUTOMATED,
        source="ivr opt-out",
        at=NOON + timedelta(hours=3),
    )
    assert again == 0
    (record,) = await consents_for(db, tenant_id=1, phone=PHONE)
    assert record.revoked_at == NOON + timedelta(hours=1) and record.source == "web form"
    actions = await db.fetch("SELECT action FROM audit_log WHERE subject = $1 ORDER BY id", PHONE)
    assert [a["action"] for a in actions if a["action"].startswith("consent.")] == [
        "consent.give",
        "consent.revoke",
        "consent.revoke",
    ]


async def test_revoked_marketing_consent_is_an_objection_under_eu(
    db: asyncpg.Pool, dnc: DncService
) -> None:
    phone = "+33612345678"
    await record_consent(
        db,
        tenant_id=1,
        phone=phone,
        channel=Channel.SMS,
        purpose=Purpose.MARKETING,
        source="shop",
        given_at=NOON - timedelta(days=9),
    )
    await revoke_consent(
        db,
        tenant_id=1,
        phone=phone,
        channel=Channel.SMS,
        source="sms STOP",
        at=NOON - timedelta(days=1),
    )
    async with ComplianceGate(db, dnc) as gate:
        call = await gate.check_number(
            phone, Channel.CALL, Purpose.MARKETING, NOON, tenant_id=1, place=PARIS
        )
    assert "eu.objection" in [r.rule for r in call.verdict.reasons]
