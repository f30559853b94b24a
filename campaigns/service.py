"""Campaign use cases: create, list, show and update campaigns of a tenant, audited."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import asyncpg

from campaigns import store
from campaigns.models import (
    Campaign,
    CampaignDraft,
    ValidationError,
    parse_enum,
    validate_caller_id,
    validate_country,
    validate_draft,
    validate_name,
)
from campaigns.zones import parse_zone
from config.vocabulary import CampaignStatus, DialMode, Purpose, RuleSetName
from storage.audit import append_audit
from storage.database import Executor


class NotFound(LookupError):
    """A named tenant or campaign does not exist."""


async def require_tenant(db: Executor, tenant_name: str) -> int:
    tenant = await store.tenant_id(db, tenant_name)
    if tenant is None:
        raise NotFound(f"tenant {tenant_name!r} does not exist")
    return tenant


async def create_campaign(
    pool: asyncpg.Pool, tenant_name: str, draft: CampaignDraft, actor: str
) -> Campaign:
    clean = validate_draft(draft)
    async with pool.acquire() as conn, conn.transaction():
        tenant = await require_tenant(conn, tenant_name)
        campaign = await store.insert_campaign(conn, tenant, clean)
        if campaign is None:
            raise ValidationError("name", f"a campaign named {clean.name!r} already exists")
        await append_audit(
            conn,
            tenant_id=tenant,
            actor=actor,
            action="campaign.create",
            subject=f"campaign:{campaign.id}",
            data=_jsonable(asdict(clean)),
        )
    return campaign


async def get_campaign(db: Executor, tenant_name: str, name: str) -> Campaign:
    tenant = await require_tenant(db, tenant_name)
    campaign = await store.campaign_by_name(db, tenant, name)
    if campaign is None:
        raise NotFound(f"campaign {name!r} does not exist in tenant {tenant_name!r}")
    return campaign


async def list_campaigns(db: Executor, tenant_name: str) -> list[Campaign]:
    return await store.list_campaigns(db, await require_tenant(db, tenant_name))


def validate_assume_zone(value: str | None) -> str | None:
    """An IANA zone a manager assumes for leads whose zone stays ambiguous ('' clears it)."""
    if value in (None, ""):
        return None
    zone = parse_zone(str(value))
    if zone is None or zone != value:
        raise ValidationError("assume_zone", f"{value!r} is not an IANA time zone name")
    return zone


def validate_changes(campaign: Campaign, changes: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise the fields a manager wants to change."""
    clean: dict[str, Any] = {}
    country = changes.get("default_country", campaign.default_country)
    for key, value in changes.items():
        if key == "name":
            clean[key] = validate_name(value)
        elif key == "mode":
            clean[key] = parse_enum(DialMode, key, value).value
        elif key == "status":
            clean[key] = parse_enum(CampaignStatus, key, value).value
        elif key == "purpose":
            clean[key] = parse_enum(Purpose, key, value).value
        elif key == "rule_set":
            clean[key] = None if value in (None, "") else parse_enum(RuleSetName, key, value).value
        elif key == "default_country":
            clean[key] = validate_country(value)
        elif key == "caller_id":
            clean[key] = validate_caller_id(value, country)
        elif key == "assume_zone":
            clean[key] = validate_assume_zone(value)
        elif key in ("schedule", "settings"):
            if not isinstance(value, dict):
                raise ValidationError(key, "must be an object")
            clean[key] = value
        else:
            raise ValidationError(key, "is not a field that can be changed")
    return clean


async def update_campaign(
    pool: asyncpg.Pool, tenant_name: str, name: str, changes: dict[str, Any], actor: str
) -> Campaign:
    async with pool.acquire() as conn, conn.transaction():
        campaign = await get_campaign(conn, tenant_name, name)
        clean = validate_changes(campaign, changes)
        updated = await store.update_campaign(conn, campaign.tenant_id, campaign.id, clean)
        assert updated is not None
        await append_audit(
            conn,
            tenant_id=campaign.tenant_id,
            actor=actor,
            action="campaign.update",
            subject=f"campaign:{campaign.id}",
            data=clean,
        )
    return updated


def campaign_report(campaign: Campaign) -> dict[str, Any]:
    """A campaign as JSON-ready values (glossary names)."""
    return _jsonable(asdict(campaign))


def _jsonable(value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if hasattr(item, "value"):
            item = item.value
        elif isinstance(item, tuple):
            item = list(item)
        elif hasattr(item, "isoformat"):
            item = item.isoformat().replace("+00:00", "Z")
        out[key] = item
    return out
