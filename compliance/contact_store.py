"""PostgreSQL reads the gate needs about a contact: the lead, its campaign and list, assume-zones.

One query returns the lead's place and zone fields with its campaign's compliance columns and
its list's assume-zone. An assume-zone counts only when an audit row records who set it (the
manager named on every verdict it decides): an audit_log row on `campaign:ID` or `list:ID` whose
data holds `{"assume_zone": ZONE}` (action `campaign.assume_zone`, `list.assume_zone`, or an
update carrying that key).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from compliance.campaign_rules import CampaignRow
from compliance.facts import AssumedZone
from config.vocabulary import DialMode, Purpose, RuleSetName
from storage.database import Executor


@dataclass(frozen=True)
class LeadContext:
    """A lead with what compliance needs from its campaign and list."""

    lead_id: int
    tenant_id: int
    campaign_id: int
    list_id: int | None
    phone: str
    country: str | None
    region: str | None
    postal_code: str | None
    tz_candidates: tuple[str, ...]
    tz_explicit: str | None
    status: str
    debtor_id: str | None
    campaign: CampaignRow
    campaign_purpose: Purpose
    campaign_updated_at: datetime
    campaign_zone: str | None
    list_zone: str | None


CAMPAIGN_COLUMNS = """
    c.id AS c_id, c.rule_set, c.mode, c.caller_id, c.safe_harbour_message, c.default_country,
    c.schedule, c.settings, c.purpose AS c_purpose, c.updated_at AS c_updated_at,
    c.assume_zone AS c_zone, c.tenant_id AS c_tenant_id
"""

LEAD_SQL = f"""
SELECT l.id, l.tenant_id, l.campaign_id, l.list_id, l.phone, l.country, l.region, l.postal_code,
       l.tz_candidates, l.tz_explicit, l.status, l.custom->>'debtor_id' AS debtor_id,
       li.assume_zone AS list_zone, {CAMPAIGN_COLUMNS}
FROM leads l
JOIN campaigns c ON c.id = l.campaign_id
LEFT JOIN lists li ON li.id = l.list_id
WHERE l.id = $1
"""


def campaign_row(row: asyncpg.Record) -> CampaignRow:
    rule_set = row["rule_set"]
    return CampaignRow(
        id=row["c_id"],
        rule_set=RuleSetName(rule_set) if rule_set else None,
        mode=DialMode(row["mode"]),
        caller_id=row["caller_id"],
        safe_harbour_message=row["safe_harbour_message"],
        default_country=row["default_country"],
        schedule=row["schedule"] or {},
        settings=row["settings"] or {},
    )


async def lead_context(db: Executor, lead_id: int) -> LeadContext | None:
    row = await db.fetchrow(LEAD_SQL, lead_id)
    if row is None:
        return None
    return LeadContext(
        lead_id=row["id"],
        tenant_id=row["tenant_id"],
        campaign_id=row["campaign_id"],
        list_id=row["list_id"],
        phone=row["phone"],
        country=row["country"],
        region=row["region"],
        postal_code=row["postal_code"],
        tz_candidates=tuple(row["tz_candidates"] or ()),
        tz_explicit=row["tz_explicit"],
        status=row["status"],
        debtor_id=row["debtor_id"],
        campaign=campaign_row(row),
        campaign_purpose=Purpose(row["c_purpose"]),
        campaign_updated_at=row["c_updated_at"],
        campaign_zone=row["c_zone"],
        list_zone=row["list_zone"],
    )


async def campaign_by_id(db: Executor, campaign_id: int) -> tuple[CampaignRow, str | None] | None:
    """A campaign's compliance columns and its assume-zone."""
    row = await db.fetchrow(
        f"SELECT {CAMPAIGN_COLUMNS} FROM campaigns c WHERE c.id = $1", campaign_id
    )
    return None if row is None else (campaign_row(row), row["c_zone"])


async def assumed_zone(db: Executor, subject: str, zone: str, scope: str) -> AssumedZone | None:
    """The audited decision behind an assume-zone (`subject`: 'campaign:7' or 'list:3')."""
    row = await db.fetchrow(
        """
        SELECT actor, at FROM audit_log
        WHERE subject = $1 AND coalesce(data->>'assume_zone', data->>'zone') = $2
          AND (action LIKE '%assume_zone%' OR data ? 'assume_zone')
        ORDER BY at DESC, id DESC LIMIT 1
        """,
        subject,
        zone,
    )
    if row is None:
        return None
    return AssumedZone(zone, row["actor"], row["at"], scope)
