"""`PgSmsStore` against the embedded PostgreSQL and the simulator: statuses, idempotence, faults."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

import asyncpg
import pytest

from config.vocabulary import SmsStatus
from dialer.smpp import persistence as ps
from dialer.smpp.receipts import FINAL_STATUSES, aggregate
from dialer.smpp.sender import OutboundSms, SendRequest
from dialer.smpp.smsc import IdBase, SmscConfig
from storage.runtime import Storage
from tests.sms_db.rig import PgRig, message_rows, permit, pg_rig

TEXTS = ["Hello {i}", "Привет {i}", "{i} " + "long message with € and [brackets] " * 8]


async def send_batch(r: PgRig, count: int, timeout_s: float = 30.0) -> list[OutboundSms]:
    requests = [
        SendRequest(permit(f"+7901{i:07d}"), TEXTS[i % 3].format(i=i), f"{r.prefix}-{i}")
        for i in range(count)
    ]
    async with asyncio.timeout(timeout_s):
        sent = await r.sender.send_many(requests)
        await r.sender.wait_all_final()
    assert all(isinstance(m, OutboundSms) for m in sent)
    return sent  # type: ignore[return-value]


async def assert_durable_exactly_once(storage: Storage, r: PgRig, count: int) -> None:
    rows = await message_rows(storage.pool, r.prefix)
    assert len(rows) == count
    for row in rows:
        parts = [SmsStatus(s) for s in row["part_statuses"]]
        assert all(s in FINAL_STATUSES for s in parts), row
        assert SmsStatus(row["status"]) is aggregate(parts)
        assert row["sent_at"] is not None and row["all_ids"]
    assert r.server.state.stats.accepted == sum(row["part_count"] for row in rows) + len(
        r.server.state.duplicated
    )
    assert_duplicates_only_when_uncertain(rows, r.server.state.duplicated)


def assert_duplicates_only_when_uncertain(
    rows: list[asyncpg.Record], duplicated: list[str]
) -> None:
    """A part reached the SMSC twice only if it was written twice (its fate was unknown)."""
    rewritten = {
        row["phone"].lstrip("+"): sum(n - 1 for n in row["submits"] if n > 1) for row in rows
    }
    for destination, count in Counter(duplicated).items():
        assert rewritten.get(destination, 0) >= count, (destination, rewritten.get(destination))


@pytest.mark.parametrize(
    "smsc",
    [
        SmscConfig(receipt_delay_ms=5),
        SmscConfig(undeliverable_rate=0.3, expired_rate=0.2, receipt_delay_ms=5, seed=4),
        SmscConfig(early_receipt_rate=0.5, receipt_id_base=IdBase.DECIMAL, receipt_delay_ms=5),
        SmscConfig(throttle_rate=0.2, queue_full_rate=0.1, max_response_delay_ms=20),
        SmscConfig(drop_every=17, max_response_delay_ms=10, receipt_delay_ms=5),
    ],
    ids=["happy", "outcomes", "early-decimal", "throttled", "drops"],
)
async def test_every_message_reaches_a_durable_final_status(
    storage: Storage, smsc: SmscConfig
) -> None:
    async with pg_rig(storage.pool, smsc) as r:
        await send_batch(r, 45)
    await assert_durable_exactly_once(storage, r, 45)


async def test_a_known_key_is_never_sent_again(storage: Storage) -> None:
    async with pg_rig(storage.pool, SmscConfig(receipt_delay_ms=5)) as r:
        sent = await send_batch(r, 3)
        again = await r.sender.send(
            permit("+79010000001"), "Hello again", message_key=f"{r.prefix}-1"
        )
    assert not isinstance(again, OutboundSms) and "already in the outbox" in again.reason
    assert r.server.state.stats.submits == sum(m.parts for m in sent)


async def test_receipts_are_idempotent_and_final_statuses_stick(storage: Storage) -> None:
    async with pg_rig(storage.pool, SmscConfig(receipt_delay_ms=5)) as r:
        sent = await send_batch(r, 2)
        ref = ps.PartRef(sent[0].key, 1, sent[0].parts)
        now = datetime.now(UTC)
        await r.store.record_statuses([ps.PartStatusChange(ref, SmsStatus.EXPIRED, now)])
        await r.store.record_statuses([ps.PartStatusChange(ref, SmsStatus.DELIVERED, now)])
    rows = await message_rows(storage.pool, r.prefix)
    assert rows[0]["part_statuses"][0] == "delivered"
    assert rows[0]["status"] == "delivered"


async def test_receipt_for_a_part_not_in_memory_is_matched_in_the_database(
    storage: Storage,
) -> None:
    smsc = SmscConfig(
        receipt_delay_ms=300, message_id_base=IdBase.DECIMAL, receipt_id_base=IdBase.HEX
    )
    async with pg_rig(storage.pool, smsc) as r:
        requests = [SendRequest(permit("+79020000001"), "restart me", f"{r.prefix}-0")]
        (message,) = await r.sender.send_many(requests)
        assert isinstance(message, OutboundSms)
        async with asyncio.timeout(5):
            await message.accepted.wait()
        r.sender._messages.clear()  # as after a restart: nothing tracked in memory
        r.sender._correlator = type(r.sender._correlator)()
        for _ in range(300):
            rows = await message_rows(storage.pool, r.prefix)
            if rows[0]["status"] == "delivered":
                break
            await asyncio.sleep(0.02)
    assert rows[0]["status"] == "delivered"
