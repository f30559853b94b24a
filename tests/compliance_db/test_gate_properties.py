"""Hypothesis over the gate on real rows: no Permit for a DNC'd number or outside the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.dnc_service import DncService
from compliance.gate import ComplianceGate
from config.vocabulary import Channel, DncChannel, DncScope, Purpose
from tests.compliance_db.conftest import make_campaign, make_lead

SCHEDULE = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "20:00"}
LEADS = (  # phone, explicit zone, zone candidates
    ("+13125550101", "America/Chicago", ()),
    ("+12125550102", None, ("America/New_York", "America/Los_Angeles")),
    ("+19075550103", None, ("America/Anchorage",)),
    ("+18085550104", "Pacific/Honolulu", ()),
)
START = datetime(2025, 1, 1, tzinfo=UTC)
DNC_CHOICES = st.none() | st.tuples(st.sampled_from(DncScope), st.sampled_from(DncChannel))


def inside_window(now: datetime, zones: tuple[str, ...]) -> bool:
    """The oracle: weekday 09:00–20:00 on every zone considered (inside the federal 08–21)."""
    for zone in zones:
        local = now.astimezone(ZoneInfo(zone))
        minute = local.hour * 60 + local.minute
        if local.weekday() >= 5 or not 9 * 60 <= minute < 20 * 60:
            return False
    return bool(zones)


def covers(channel: DncChannel, wanted: Channel) -> bool:
    return channel is DncChannel.ALL or (channel is DncChannel.SMS) == (wanted is Channel.SMS)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pick=st.integers(0, len(LEADS) - 1),
    offset_min=st.integers(0, 365 * 24 * 60),
    channel=st.sampled_from([Channel.CALL, Channel.SMS]),
    dnc_entry=DNC_CHOICES,
)
async def test_gate_never_permits_dnc_or_outside_the_window(
    db: asyncpg.Pool,
    pick: int,
    offset_min: int,
    channel: Channel,
    dnc_entry: tuple[DncScope, DncChannel] | None,
) -> None:
    campaign = await db.fetchval("SELECT id FROM campaigns WHERE name = 'prop'")
    if campaign is None:
        campaign = await make_campaign(db, "prop", schedule=SCHEDULE, purpose=Purpose.SURVEY)
        for phone, explicit, zones in LEADS:
            await make_lead(db, campaign, phone, zones=zones, explicit=explicit)
    phone, explicit, zones = LEADS[pick]
    lead = await db.fetchval("SELECT id FROM leads WHERE phone = $1", phone)
    now = START + timedelta(minutes=offset_min)
    dnc = DncService(db, None)
    if dnc_entry is not None:
        scope, dnc_channel = dnc_entry
        await dnc.add(phone, scope, dnc_channel, "prop", tenant_id=1, campaign_id=campaign)
    try:
        async with ComplianceGate(db, dnc) as gate:
            result = await gate.check(lead, channel, Purpose.SURVEY, now)
    finally:
        if dnc_entry is not None:
            await dnc.remove(phone, dnc_entry[0], dnc_entry[1], tenant_id=1, campaign_id=campaign)
    considered = (explicit,) if explicit else zones
    blocked = dnc_entry is not None and covers(dnc_entry[1], channel)
    assert (result.permit is not None) == result.verdict.allowed
    if result.permit is not None:
        assert not blocked
        assert inside_window(now, considered)
        assert result.permit.is_valid_at(now) and result.permit.phone_e164 == phone
    else:
        assert blocked or not inside_window(now, considered)
        if blocked:
            assert result.verdict.next_allowed_at is None
