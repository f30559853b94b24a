"""Test rig: the SMSC simulator on 127.0.0.1, an SMPP client and a sender over `PgSmsStore`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from compliance.permit import Permit, mint_operator_test_permit
from config.vocabulary import Channel
from dialer.smpp.client import ClientConfig, SmppClient
from dialer.smpp.pg_store import PgSmsStore
from dialer.smpp.sender import InboundSink, MemoryInboundSink, SenderConfig, SmsSender
from dialer.smpp.session import SessionConfig
from dialer.smpp.simulator import SmscServer
from dialer.smpp.smsc import SmscConfig


@dataclass
class PgRig:
    server: SmscServer
    client: SmppClient
    sender: SmsSender
    store: PgSmsStore
    prefix: str


def permit(phone: str, ttl_s: float = 60.0) -> Permit:
    return mint_operator_test_permit(
        phone_e164=phone, channel=Channel.SMS, operator="pytest", now=datetime.now(UTC), ttl_s=ttl_s
    )


async def default_tenant(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT id FROM tenants WHERE name = 'default'"))


@asynccontextmanager
async def client_for(
    sender: SmsSender, port: int, smsc: SmscConfig, window: int = 10, rate_per_s: float = 0.0
) -> AsyncIterator[SmppClient]:
    session = SessionConfig(smsc.system_id, smsc.password, window=window, response_timeout_s=2.0)
    config = ClientConfig("127.0.0.1", port, session, reconnect_initial_s=0.02,
                          reconnect_max_s=0.2, throttle_initial_s=0.01, throttle_max_s=0.05,
                          max_attempts=50, rate_per_s=rate_per_s)  # fmt: skip
    client = SmppClient(config, sender)
    sender.client = client
    runner = asyncio.create_task(client.run())
    try:
        yield client
    finally:
        await client.close(timeout_s=2)
        async with asyncio.timeout(5):
            await runner


@asynccontextmanager
async def pg_rig(
    pool: asyncpg.Pool,
    smsc: SmscConfig,
    sink: InboundSink | None = None,
    window: int = 10,
    rate_per_s: float = 0.0,
) -> AsyncIterator[PgRig]:
    tenant = await default_tenant(pool)
    node = f"pytest-{uuid.uuid4().hex[:8]}"
    store = PgSmsStore(pool, tenant, node)
    sender = SmsSender(store, sink or MemoryInboundSink(), SenderConfig(source_addr="DIALER"))
    async with (
        SmscServer(smsc) as server,
        client_for(sender, server.port, smsc, window, rate_per_s) as client,
    ):
        yield PgRig(server, client, sender, store, uuid.uuid4().hex[:10])


async def message_rows(pool: asyncpg.Pool, prefix: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT m.message_key, m.phone, m.status, m.part_count, o.sent_at, o.claimed_by, "
        "array_agg(p.status ORDER BY p.part_no) AS part_statuses, "
        "array_agg(p.submits ORDER BY p.part_no) AS submits, "
        "bool_and(p.smsc_message_id IS NOT NULL) AS all_ids "
        "FROM sms_messages m JOIN sms_parts p ON p.message_id = m.id "
        "JOIN sms_outbox o ON o.message_id = m.id "
        "WHERE m.message_key LIKE $1 || '%' GROUP BY m.id, o.id ORDER BY m.id",
        prefix,
    )


def client_config_for(port: int, smsc: SmscConfig, window: int = 10) -> ClientConfig:
    session = SessionConfig(smsc.system_id, smsc.password, window=window, response_timeout_s=2.0)
    return ClientConfig("127.0.0.1", port, session, reconnect_initial_s=0.02, reconnect_max_s=0.2,
                        throttle_initial_s=0.01, throttle_max_s=0.05, max_attempts=50)  # fmt: skip


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 10.0) -> None:
    """Poll the database until `check` holds (bounded)."""
    async with asyncio.timeout(timeout_s):
        while not await check():  # noqa: ASYNC110 - polling the database, not an event
            await asyncio.sleep(0.05)
