"""Campaigns and leads for the SMS tests, written through the campaigns service and plain SQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import asyncpg

from campaigns import service
from campaigns.models import Campaign, CampaignDraft
from config.vocabulary import CampaignChannel, DialMode, Purpose, RuleSetName


def zone_at_local_hour(hour: int, now: datetime | None = None) -> str:
    """An `Etc/GMT±N` zone whose local time now is `hour`:xx (whole-hour offsets only)."""
    utc_hour = (now or datetime.now(UTC)).hour
    offset = (hour - utc_hour + 12) % 24 - 12  # in [-12, 11]
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


async def sms_campaign(
    pool: asyncpg.Pool,
    name: str,
    *,
    rule_set: RuleSetName = RuleSetName.NONE,
    purpose: Purpose = Purpose.INFORMATIONAL,
    settings: dict[str, Any] | None = None,
) -> Campaign:
    draft = CampaignDraft(
        name=name,
        mode=DialMode.PROGRESSIVE,
        channel=CampaignChannel.SMS,
        purpose=purpose,
        rule_set=rule_set,
        default_country="RU",
        caller_id="+74951234567",
        settings=settings or {},
    )
    return await service.create_campaign(pool, "default", draft, actor="pytest")


async def add_leads(
    pool: asyncpg.Pool, campaign: Campaign, phones: list[str], zone: str, **columns: Any
) -> list[int]:
    """Leads with these phones; `first_name`/`custom` may be lists (one value per lead)."""
    ids: list[int] = []
    for i, phone in enumerate(phones):
        first = columns.get("first_name")
        custom = columns.get("custom")
        value = await pool.fetchval(
            "INSERT INTO leads (tenant_id, campaign_id, phone, first_name, country, tz_explicit, "
            "custom) VALUES ($1, $2, $3, $4, 'RU', $5, $6) RETURNING id",
            campaign.tenant_id,
            campaign.id,
            phone,
            first[i] if isinstance(first, list) else first,
            zone,
            json.loads(json.dumps(custom[i] if isinstance(custom, list) else (custom or {}))),
        )
        ids.append(int(value))
    return ids


def phones(base: int, count: int) -> list[str]:
    """Valid Russian mobile numbers (+7 9xx), distinct per `base`."""
    return [f"+7916{base:03d}{i:04d}" for i in range(count)]
