"""Opt-outs and replies over a real bind: consent revoked, DNC for sms, confirmation, history."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg

from compliance.consent_store import record_consent
from compliance.dnc_service import DncService
from config.vocabulary import Channel, Purpose
from dialer.smpp.inbound import PgInboundSink
from dialer.smpp.runtime import sms_runtime
from dialer.smpp.sender import SenderConfig
from dialer.smpp.simulator import SmscServer
from dialer.smpp.smsc import SmscConfig
from storage.runtime import Storage
from tests.sms_db.campaign_setup import phones
from tests.sms_db.rig import client_config_for, default_tenant, eventually

CONFIRMATION = "You are unsubscribed. Вы отписаны."


async def run_inbound(
    storage: Storage, messages: list[tuple[str, str]], keywords: tuple[str, ...] | None = None
) -> tuple[PgInboundSink, SmscServer, int]:
    pool = storage.pool
    tenant = await default_tenant(pool)
    sink = PgInboundSink(pool, tenant, DncService(pool, storage.redis, default_region="RU"),
                         confirmation=CONFIRMATION, region="RU")  # fmt: skip
    config = SenderConfig(source_addr="DIALER")
    if keywords is not None:
        config = SenderConfig(source_addr="DIALER", opt_out_keywords=keywords)
    smsc = SmscConfig(receipt_delay_ms=5)
    async with SmscServer(smsc) as server:
        client = client_config_for(server.port, smsc)
        async with sms_runtime(pool, tenant, client, config, inbound=sink, poll_s=0.05) as rt:
            for source, text in messages:
                server.inject_mo(source.lstrip("+"), "DIALER", text)
            await eventually(
                lambda: asyncio.sleep(0, sink.opt_outs + sink.replies == len(messages))
            )
            await eventually(lambda: _confirmations_final(pool, sink.opt_outs))
            await rt.client.drain()
    return sink, server, tenant


async def _confirmations_final(pool: asyncpg.Pool, opt_outs: int) -> bool:
    done = await pool.fetchval(
        "SELECT count(*) FROM sms_messages WHERE message_key LIKE 'stop-confirm:%' "
        "AND status = 'delivered' AND created_at > now() - interval '1 minute'"
    )
    return bool(done >= opt_outs)


async def test_opt_out_revokes_consent_adds_dnc_confirms_and_replies_land_on_history(
    storage: Storage,
) -> None:
    pool = storage.pool
    stop, otpiska, chatty = phones(201, 3)
    tenant = await default_tenant(pool)
    for phone in (stop, otpiska):
        await record_consent(pool, tenant_id=tenant, phone=phone, channel=Channel.SMS,
                             purpose=Purpose.MARKETING, source="pytest",
                             given_at=datetime.now(UTC))  # fmt: skip
    sink, server, _ = await run_inbound(
        storage, [(stop, "Stop."), (otpiska, "ОТПИСКА пожалуйста"), (chatty, "Who is this?")]
    )
    assert (sink.opt_outs, sink.replies) == (2, 1)
    for phone in (stop, otpiska):
        consent = await pool.fetchrow(
            "SELECT revoked_at, revoked_source FROM consents WHERE phone = $1", phone
        )
        assert (
            consent is not None
            and consent["revoked_at"] is not None
            and consent["revoked_source"] == "sms-stop"
        )
        dnc = await pool.fetchrow(
            "SELECT scope, channel, tenant_id FROM dnc_entries WHERE phone = $1", phone
        )
        assert dnc is not None
        assert (dnc["scope"], dnc["channel"], dnc["tenant_id"]) == ("tenant", "sms", tenant)
        confirmation = await pool.fetchrow(
            "SELECT body, status FROM sms_messages WHERE phone = $1 AND direction = 'out'", phone
        )
        assert confirmation is not None
        assert (confirmation["body"], confirmation["status"]) == (CONFIRMATION, "delivered")
    assert not await pool.fetchval("SELECT count(*) FROM dnc_entries WHERE phone = $1", chatty)
    history = await pool.fetch(
        "SELECT c.phone, i.kind, i.summary, i.data FROM interactions i "
        "JOIN contacts c ON c.id = i.contact_id WHERE c.phone = ANY($1) ORDER BY i.id",
        [stop, otpiska, chatty],
    )
    assert [(h["phone"], h["kind"], h["summary"]) for h in history] == [
        (stop, "sms-in", "Stop."),
        (otpiska, "sms-in", "ОТПИСКА пожалуйста"),
        (chatty, "sms-in", "Who is this?"),
    ]
    assert history[0]["data"]["opt_out"] == "STOP" and history[2]["data"] == {}
    assert server.state.stats.accepted == 2  # the two confirmations, nothing else


async def test_opt_out_keywords_are_configurable(storage: Storage) -> None:
    halt, stop = phones(202, 2)
    sink, _, _ = await run_inbound(storage, [(halt, "halt"), (stop, "STOP")], keywords=("HALT",))
    assert (sink.opt_outs, sink.replies) == (1, 1)
    pool = storage.pool
    assert await pool.fetchval("SELECT count(*) FROM dnc_entries WHERE phone = $1", halt) == 1
    assert await pool.fetchval("SELECT count(*) FROM dnc_entries WHERE phone = $1", stop) == 0
