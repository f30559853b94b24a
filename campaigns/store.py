"""PostgreSQL repository for tenants and campaigns (all of their SQL lives here)."""

from __future__ import annotations

from typing import Any

import asyncpg

from campaigns.models import Campaign, CampaignDraft
from config.vocabulary import CampaignChannel, CampaignStatus, DialMode, Purpose, RuleSetName
from storage.database import Executor

UPDATABLE_COLUMNS = frozenset(
    {
        "mode",
        "status",
        "purpose",
        "rule_set",
        "default_country",
        "caller_id",
        "schedule",
        "settings",
        "assume_zone",
        "name",
    }
)


def _campaign(row: asyncpg.Record) -> Campaign:
    rule_set = row["rule_set"]
    return Campaign(
        id=row["id"],
        tenant_id=row["tenant_id"],
        name=row["name"],
        channel=CampaignChannel(row["channel"]),
        mode=DialMode(row["mode"]),
        status=CampaignStatus(row["status"]),
        purpose=Purpose(row["purpose"]),
        rule_set=RuleSetName(rule_set) if rule_set else None,
        default_country=row["default_country"],
        caller_id=row["caller_id"],
        trunk_ids=tuple(row["trunk_ids"]),
        schedule=row["schedule"],
        settings=row["settings"],
        assume_zone=row["assume_zone"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def tenant_id(db: Executor, name: str) -> int | None:
    value = await db.fetchval("SELECT id FROM tenants WHERE name = $1", name)
    return int(value) if value is not None else None


async def insert_campaign(db: Executor, tenant: int, draft: CampaignDraft) -> Campaign | None:
    """Insert a campaign; None when the tenant already has one of that name."""
    row = await db.fetchrow(
        """
        INSERT INTO campaigns (tenant_id, name, channel, mode, purpose, rule_set, default_country,
                               caller_id, schedule, settings)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (tenant_id, name) DO NOTHING
        RETURNING *
        """,
        tenant,
        draft.name,
        draft.channel.value,
        draft.mode.value,
        draft.purpose.value,
        draft.rule_set.value if draft.rule_set else None,
        draft.default_country,
        draft.caller_id,
        draft.schedule,
        draft.settings,
    )
    return _campaign(row) if row else None


async def campaign_by_name(db: Executor, tenant: int, name: str) -> Campaign | None:
    row = await db.fetchrow(
        "SELECT * FROM campaigns WHERE tenant_id = $1 AND name = $2", tenant, name
    )
    return _campaign(row) if row else None


async def list_campaigns(db: Executor, tenant: int) -> list[Campaign]:
    rows = await db.fetch("SELECT * FROM campaigns WHERE tenant_id = $1 ORDER BY id", tenant)
    return [_campaign(r) for r in rows]


async def update_campaign(
    db: Executor, tenant: int, campaign_id: int, changes: dict[str, Any]
) -> Campaign | None:
    unknown = set(changes) - UPDATABLE_COLUMNS
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    if not changes:
        row = await db.fetchrow(
            "SELECT * FROM campaigns WHERE id = $1 AND tenant_id = $2", campaign_id, tenant
        )
        return _campaign(row) if row else None
    columns = sorted(changes)
    assignments = ", ".join(f"{col} = ${i + 3}" for i, col in enumerate(columns))
    row = await db.fetchrow(
        f"UPDATE campaigns SET {assignments}, updated_at = now() "
        "WHERE id = $1 AND tenant_id = $2 RETURNING *",
        campaign_id,
        tenant,
        *(changes[c] for c in columns),
    )
    return _campaign(row) if row else None


async def lead_counts(db: Executor, campaign_id: int) -> dict[str, int]:
    rows = await db.fetch(
        "SELECT status, count(*) AS n FROM leads WHERE campaign_id = $1 GROUP BY status",
        campaign_id,
    )
    return {r["status"]: int(r["n"]) for r in rows}
