"""Crash safety: SIGKILL `dialer sms campaign run` mid-run against the simulator, then restart.

Checked from the database and the simulator's own records: every lead got exactly one message,
every part reached the SMSC, and a part reached it twice only if it was written twice (its
`submit_sm_resp` was not durable when the process died: the documented window).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import asyncpg

from campaigns.models import Campaign
from dialer.smpp.simulator import SmscServer
from dialer.smpp.smsc import SmscConfig
from storage.runtime import Storage
from tests.sms_db.campaign_setup import add_leads, phones, sms_campaign, zone_at_local_hour
from tests.sms_db.rig import message_rows
from tests.sms_db.test_pg_store import assert_duplicates_only_when_uncertain

REPO = Path(__file__).resolve().parents[2]
LEADS = 400


async def _env(storage: Storage, data_dir: Path) -> dict[str, str]:
    redis_path = storage.redis.connection_pool.connection_kwargs["path"]  # type: ignore[union-attr]
    return {
        **os.environ,
        "DIALER_DATA_DIR": str(data_dir),
        "DIALER_DATABASE_URL": storage.database_dsn,
        "DIALER_REDIS_URL": f"unix://{redis_path}",
        "DIALER_SMS__WINDOW": "20",
        "DIALER_SMS__CAMPAIGN_BATCH": "25",
        "DIALER_SMS__DESTINATION_INTERVAL_S": "0",
        "DIALER_LOG__LEVEL": "WARNING",
    }


async def _start(campaign: Campaign, port: int, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli.main", "sms", "campaign", "run", campaign.name,
        "--smsc", f"127.0.0.1:{port}", "--system-id", "dialer", "--password", "secret",
        "--wait-receipts", "20", "--json",
        cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _in_flight(pool: asyncpg.Pool, campaign: Campaign) -> tuple[int, int]:
    """(messages so far, parts written whose response is not durable)."""
    row = await pool.fetchrow(
        "SELECT count(DISTINCT m.id) AS messages, "
        "count(p.id) FILTER (WHERE p.status = 'submitted') AS uncertain "
        "FROM sms_messages m JOIN sms_parts p ON p.message_id = m.id WHERE m.campaign_id = $1",
        campaign.id,
    )
    assert row is not None
    return int(row["messages"]), int(row["uncertain"])


async def _kill_mid_run(proc: asyncio.subprocess.Process, pool: asyncpg.Pool,
                        campaign: Campaign) -> int:  # fmt: skip
    """SIGKILL once a third of the leads have messages and some parts are in flight."""
    async with asyncio.timeout(60):
        while True:
            messages, uncertain = await _in_flight(pool, campaign)
            if messages >= LEADS // 3 and uncertain > 0:
                break
            assert proc.returncode is None, "the run finished before it could be killed"
            await asyncio.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    return uncertain


async def test_sigkill_mid_run_loses_nothing_and_duplicates_only_uncertain_parts(
    storage: Storage, unique_name: str, tmp_path: Path
) -> None:
    pool = storage.pool
    text = "Order {custom.n}: " + "your parcel is on its way, track it online. " * 4
    campaign = await sms_campaign(pool, unique_name, settings={"sms_template": text})
    lead_ids = await add_leads(pool, campaign, phones(301, LEADS), zone_at_local_hour(12),
                               custom=[{"n": i} for i in range(LEADS)])  # fmt: skip
    smsc = SmscConfig(max_response_delay_ms=40, receipt_delay_ms=30, seed=7)
    env = await _env(storage, tmp_path)
    async with SmscServer(smsc) as server:
        first = await _start(campaign, server.port, env)
        uncertain_at_kill = await _kill_mid_run(first, pool, campaign)
        second = await _start(campaign, server.port, env)
        async with asyncio.timeout(120):
            out, err = await second.communicate()
        assert second.returncode == 0, err.decode()[-2000:]
    report = json.loads(out)
    assert uncertain_at_kill > 0  # killed with parts written and unanswered
    assert report["recovery"]["nodes_taken_over"], report
    rows = await pool.fetch(
        "SELECT lead_id, count(*) AS n FROM sms_messages WHERE campaign_id = $1 GROUP BY lead_id",
        campaign.id,
    )
    assert {r["lead_id"]: r["n"] for r in rows} == {lead: 1 for lead in lead_ids}
    leads = await pool.fetch("SELECT status FROM leads WHERE campaign_id = $1", campaign.id)
    assert {r["status"] for r in leads} == {"done"}
    messages = await message_rows(pool, f"sms:c{campaign.id}:")
    assert len(messages) == LEADS
    stuck = [(m["message_key"], m["part_statuses"], m["submits"]) for m in messages
             if m["status"] != "delivered"]  # fmt: skip
    assert stuck == [], (report, err.decode()[-3000:])
    assert all(m["sent_at"] is not None for m in messages)
    parts = sum(m["part_count"] for m in messages)
    duplicated = server.state.duplicated
    assert server.state.stats.accepted - len(duplicated) == parts  # every part reached the SMSC
    assert len(duplicated) <= report["recovery"]["parts_uncertain_replayed"]
    assert_duplicates_only_when_uncertain(messages, duplicated)
