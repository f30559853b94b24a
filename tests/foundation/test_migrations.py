"""Migrations on an empty database, re-run as a no-op, status, and schema/vocabulary agreement."""

from __future__ import annotations

import re

import asyncpg
import pytest

from config import vocabulary
from storage import migrations

EXPECTED_TABLES = {
    "tenants", "users", "api_keys", "trunks", "campaign_groups", "campaigns", "lists", "leads",
    "agents", "skills", "agent_skills", "queues", "queue_agents", "attempts", "sms_messages",
    "sms_parts", "sms_outbox", "webhook_endpoints", "webhook_outbox", "sales_handoff_outbox",
    "dispositions", "lead_dispositions", "callbacks", "dnc_entries", "dnc_registry_imports",
    "consents", "contacts", "interactions", "tickets", "audit_log", "schema_migrations",
}  # fmt: skip


async def test_migrate_empty_database_then_rerun_is_noop(empty_database: asyncpg.Pool) -> None:
    async with empty_database.acquire() as conn:
        applied = await migrations.migrate(conn)
        assert [m.version for m in applied] == [m.version for m in migrations.discover()]
        tables = {
            r["tablename"]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        }
        assert tables >= EXPECTED_TABLES
        assert await conn.fetchval("SELECT name FROM tenants") == "default"
        assert await migrations.migrate(conn) == []
        status = await migrations.status(conn)
        assert all(s.applied_at is not None and not s.changed_since_applied for s in status)


async def test_audit_log_is_append_only(empty_database: asyncpg.Pool) -> None:
    async with empty_database.acquire() as conn:
        await migrations.migrate(conn)
        await conn.execute("INSERT INTO audit_log (actor, action) VALUES ('t', 'x')")
        for statement in ("UPDATE audit_log SET actor = 'y'", "DELETE FROM audit_log",
                          "TRUNCATE audit_log"):  # fmt: skip
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await conn.execute(statement)


async def test_hot_path_indexes_exist(empty_database: asyncpg.Pool) -> None:
    async with empty_database.acquire() as conn:
        await migrations.migrate(conn)
        plan = await conn.fetchval(
            "EXPLAIN SELECT id FROM leads WHERE campaign_id = 1 AND status IN ('new','retry') "
            "AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT 10 FOR UPDATE SKIP LOCKED"
        )
        indexes = {r["indexname"] for r in await conn.fetch("SELECT indexname FROM pg_indexes")}
        assert {"leads_next_attempt", "dnc_entries_phone"} <= indexes
        assert plan


CHECKS = {
    "outcome": vocabulary.CallOutcome,
    "amd_result": vocabulary.AmdResult,
    "status IN ('queued'": vocabulary.SmsStatus,
    "encoding": vocabulary.SmsEncoding,
    "mode": vocabulary.DialMode,
    "purpose": vocabulary.Purpose,
    "rule_set": vocabulary.RuleSetName,
    "scope": vocabulary.DncScope,
    "category": vocabulary.DispositionCategory,
    "role": vocabulary.Role,
    "status IN ('new'": vocabulary.LeadStatus,
    "status IN ('draft'": vocabulary.CampaignStatus,
    "status IN ('open'": vocabulary.TicketStatus,
    "channel IN ('call','automated'": vocabulary.Channel,
    "channel IN ('call','sms'": vocabulary.DncChannel,
    "channel IN ('voice'": vocabulary.CampaignChannel,
}


@pytest.mark.parametrize("column", sorted(CHECKS))
def test_sql_checks_list_the_vocabulary(column: str) -> None:
    sql = " ".join(m.sql for m in migrations.discover())
    needle = column if "IN" in column else f"{column} IN"
    start = sql.index(needle)
    values = set(re.findall(r"'([^']+)'", sql[start : sql.index(")", start)]))
    assert values == {member.value for member in CHECKS[column]}
