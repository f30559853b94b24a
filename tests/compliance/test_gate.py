"""The gate: only an allowing, fresh verdict becomes a Permit, never past the window's end."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from compliance.engine import evaluate
from compliance.facts import CampaignRules, ContactFacts
from compliance.verdict import permit_for
from config.vocabulary import Channel, Purpose, RuleSetName

CHI = ZoneInfo("America/Chicago")
LEAD = ContactFacts(
    "+13125550123",
    "US",
    CampaignRules(1, RuleSetName.US, caller_id="+12025550100"),
    region="IL",
    zone_candidates=("America/Chicago",),
    registry_as_of=date(2025, 6, 1),
)


def test_allowing_verdict_mints_a_permit_with_its_reasons() -> None:
    now = datetime(2025, 6, 10, 12, 0, tzinfo=CHI)
    verdict = evaluate(LEAD, Channel.CALL, Purpose.MARKETING, now)
    permit = permit_for(verdict, now=now, campaign_id=1, lead_id=7)
    assert permit is not None and permit.is_valid_at(now)
    assert permit.phone_e164 == "+13125550123" and permit.lead_id == 7
    assert permit.reasons == tuple(str(r) for r in verdict.reasons)


def test_refusing_or_stale_verdict_mints_nothing() -> None:
    night = datetime(2025, 6, 10, 22, 0, tzinfo=CHI)
    assert permit_for(evaluate(LEAD, Channel.CALL, Purpose.MARKETING, night), now=night) is None
    noon = datetime(2025, 6, 10, 12, 0, tzinfo=CHI)
    verdict = evaluate(LEAD, Channel.CALL, Purpose.MARKETING, noon)
    assert permit_for(verdict, now=noon + timedelta(minutes=5)) is None
    assert permit_for(verdict, now=noon - timedelta(seconds=1)) is None


def test_permit_never_outlives_the_window() -> None:
    now = datetime(2025, 6, 10, 20, 59, 30, tzinfo=CHI)
    verdict = evaluate(LEAD, Channel.CALL, Purpose.MARKETING, now)
    permit = permit_for(verdict, now=now, ttl_s=300)
    assert permit is not None
    assert permit.expires_at == datetime(2025, 6, 10, 21, 0, tzinfo=CHI)
    assert verdict.as_dict()["reasons"][0]["rule"] == "us.calling_hours"
