"""`PgSmsStore`: the `SmsStore` port on PostgreSQL (sms_messages, sms_parts, sms_outbox, attempts).

All of the send path's SQL lives here. Each port call is one statement (data-modifying CTEs), so
it is atomic without an explicit transaction and costs one round trip per batch. A message's
status is re-aggregated from its parts in the same statement (delivered only when every part is,
else the worst part); the outbox row is marked sent once no part is queued or submitted. Part
updates never move a final status, so receipts and replays apply idempotently.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

import asyncpg

from dialer.smpp import persistence as ps
from dialer.smpp.receipts import FINAL_STATUSES, SEVERITY, normalise_id, receipt_candidates
from storage.database import Connection, Executor

_SEVERITY_SQL = "ARRAY[" + ",".join(f"'{s.value}'" for s in SEVERITY) + "]"
_FINAL_SQL = "(" + ",".join(f"'{s.value}'" for s in sorted(FINAL_STATUSES)) + ")"

# Aggregates the messages of the parts `p` (a CTE of updated parts: message_id, part_no, status)
# from their new statuses plus the untouched parts; then updates messages and the outbox.
_AGGREGATE = f"""
a AS (
    SELECT s.message_id,
           ({_SEVERITY_SQL})[max(array_position({_SEVERITY_SQL}, s.status))] AS status,
           bool_and(s.status NOT IN ('queued', 'submitted')) AS resolved
    FROM (
        SELECT message_id, part_no, status FROM p
        UNION ALL
        SELECT q.message_id, q.part_no, q.status FROM sms_parts q
        WHERE q.message_id IN (SELECT message_id FROM p)
          AND NOT EXISTS (SELECT 1 FROM p WHERE p.message_id = q.message_id
                                            AND p.part_no = q.part_no)
    ) s
    GROUP BY s.message_id
),
m AS (
    UPDATE sms_messages m SET status = a.status, updated_at = $1
    FROM a WHERE m.id = a.message_id AND m.status <> a.status
)
UPDATE sms_outbox o SET sent_at = $1
FROM a WHERE o.message_id = a.message_id AND a.resolved AND o.sent_at IS NULL
"""

# Known keys are filtered out first, so no attempts row is written for them. Two writers racing
# with the same new key: the second's message insert is skipped by ON CONFLICT (it is refused as
# a duplicate), leaving one attempts row without a message; harmless and rare.
_QUEUE = """
WITH input AS (
    SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[],
                         $8::int[], $9::text[], $10::timestamptz[], $11::timestamptz[],
                         $12::bigint[], $13::bigint[], $14::bool[], $15::text[])
        AS u(key, phone, body, encoding, parts, concat, ref, sender, at, permit_exp,
             campaign_id, lead_id, claimed, reasons)
    WHERE NOT EXISTS (SELECT 1 FROM sms_messages x WHERE x.message_key = u.key)
),
att AS (
    INSERT INTO attempts (tenant_id, campaign_id, lead_id, channel, phone, engine_node, call_id,
                          created_at, permit_reasons)
    SELECT $1, campaign_id, lead_id, 'sms', phone, $16, key, at, string_to_array(reasons, E'\\n')
    FROM input
    RETURNING id, call_id
),
msg AS (
    INSERT INTO sms_messages (tenant_id, campaign_id, lead_id, attempt_id, direction, phone, sender,
                              body, encoding, part_count, status, message_key, concatenation,
                              concat_ref, permit_expires_at, created_at, updated_at)
    SELECT $1, i.campaign_id, i.lead_id, att.id, 'out', i.phone, i.sender, i.body, i.encoding,
           i.parts, 'queued', i.key, i.concat, i.ref, i.permit_exp, i.at, i.at
    FROM input i JOIN att ON att.call_id = i.key
    ON CONFLICT (message_key) DO NOTHING
    RETURNING id, message_key, part_count, created_at
),
parts AS (
    INSERT INTO sms_parts (message_id, part_no, status)
    SELECT msg.id, g, 'queued' FROM msg, generate_series(1, msg.part_count) AS g
),
box AS (
    INSERT INTO sms_outbox (message_id, available_at, claimed_by, claimed_until, created_at)
    SELECT msg.id, msg.created_at, CASE WHEN i.claimed THEN $16 END,
           CASE WHEN i.claimed THEN msg.created_at + make_interval(secs => $17) END,
           msg.created_at
    FROM msg JOIN input i ON i.key = msg.message_key
)
SELECT message_key FROM msg
"""

_PARTS_OF = """
u AS (SELECT * FROM unnest($2::text[], $3::int[]{extra}) AS u(key, part_no{names})),
t AS (
    SELECT q.id, u.* FROM u
    JOIN sms_messages mm ON mm.message_key = u.key
    JOIN sms_parts q ON q.message_id = mm.id AND q.part_no = u.part_no
)
"""

_SUBMITTED = (
    "WITH "
    + _PARTS_OF.format(extra="", names="")
    + """,
p AS (
    UPDATE sms_parts x SET submits = x.submits + 1, submitted_at = coalesce(x.submitted_at, $1),
           status = CASE WHEN x.status = 'queued' THEN 'submitted' ELSE x.status END
    FROM t WHERE x.id = t.id
    RETURNING x.message_id, x.part_no, x.status
),"""
    + _AGGREGATE
)

_ACCEPTED = (
    "WITH "
    + _PARTS_OF.format(extra=", $4::text[], $5::text[]", names=", smsc_id, norm")
    + """,
p AS (
    UPDATE sms_parts x SET smsc_message_id = t.smsc_id, smsc_id_norm = t.norm, accepted_at = $1,
           status = CASE WHEN x.status IN ('queued', 'submitted') THEN 'accepted' ELSE x.status END
    FROM t WHERE x.id = t.id
    RETURNING x.message_id, x.part_no, x.status
),"""
    + _AGGREGATE
)

_STATUSES = (
    "WITH "
    + _PARTS_OF.format(extra=", $4::text[], $5::text[]", names=", new_status, err")
    + f""",
p AS (
    UPDATE sms_parts x SET status = t.new_status, error = coalesce(t.err, x.error),
           final_at = CASE WHEN t.new_status IN {_FINAL_SQL} THEN $1 ELSE x.final_at END
    FROM t WHERE x.id = t.id AND x.status NOT IN {_FINAL_SQL} AND x.status <> t.new_status
    RETURNING x.message_id, x.part_no, x.status
),"""
    + _AGGREGATE
)

_MATCH = """
SELECT u.rid, u.cand, p.smsc_id_norm, m.message_key, p.part_no, m.part_count
FROM unnest($1::text[], $2::text[]) AS u(rid, cand)
JOIN sms_parts p ON p.smsc_id_norm = u.cand AND p.status = 'accepted'
JOIN sms_messages m ON m.id = p.message_id
"""


# Every statement here touches a batch of rows by key: index lookups are always right. Table
# statistics are often wrong for the outbox (a fresh or just-emptied table is believed empty
# until autovacuum analyses it, a minute later), and a plan made on that belief hashes or scans
# whole tables: 100x slower at 50,000 rows. So each write plans for its own arguments with
# hash/merge joins and sequential scans off, in one round trip.
_POINT_PLANS = (
    "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
    "set_config('enable_seqscan', 'off', true), set_config('enable_hashjoin', 'off', true), "
    "set_config('enable_mergejoin', 'off', true)"
)


@contextlib.asynccontextmanager
async def _point_plans(db: Executor) -> AsyncIterator[Connection]:
    """A transaction whose statements use index lookups whatever the statistics say."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn, conn.transaction():
            await conn.execute(_POINT_PLANS)
            yield conn
    else:
        async with db.transaction():
            await db.execute(_POINT_PLANS)
            yield db


def _keys(refs: Sequence[ps.PartRef]) -> tuple[list[str], list[int]]:
    return [r.message_key for r in refs], [r.index for r in refs]


class PgSmsStore:
    """The outbox of one tenant, written by engine node `node` (see outbox.py for claims)."""

    def __init__(self, db: Executor, tenant_id: int, node: str, claim_lease_s: float = 300.0):
        self.db = db
        self.tenant_id = tenant_id
        self.node = node
        self.claim_lease_s = claim_lease_s

    async def _execute(self, statement: str, *args: object) -> None:
        async with _point_plans(self.db) as conn:
            await conn.execute(statement, *args)

    async def _fetch(self, statement: str, *args: object) -> list[asyncpg.Record]:
        async with _point_plans(self.db) as conn:
            return await conn.fetch(statement, *args)

    async def record_queued(self, messages: Sequence[ps.QueuedMessage]) -> frozenset[str]:
        if not messages:
            return frozenset()
        ms = messages
        rows = await self._fetch(
            _QUEUE,
            self.tenant_id,
            [m.key for m in ms],
            [m.destination for m in ms],
            [m.text for m in ms],
            [m.encoding.value for m in ms],
            [m.parts for m in ms],
            [m.concatenation for m in ms],
            [m.reference for m in ms],
            [m.source_addr or None for m in ms],
            [m.at for m in ms],
            [m.permit_expires_at for m in ms],
            [m.campaign_id for m in ms],
            [m.lead_id for m in ms],
            [m.claimed for m in ms],
            ["\n".join(m.permit_reasons) for m in ms],
            self.node,
            self.claim_lease_s,
        )
        return frozenset(r["message_key"] for r in rows)

    async def record_submitted(self, parts: Sequence[ps.SubmittedPart]) -> None:
        if parts:
            keys, indexes = _keys([p.ref for p in parts])
            await self._execute(_SUBMITTED, parts[0].at, keys, indexes)

    async def record_accepted(self, parts: Sequence[ps.AcceptedPart]) -> None:
        if parts:
            keys, indexes = _keys([p.ref for p in parts])
            ids = [p.message_id for p in parts]
            norms = [normalise_id(i) for i in ids]
            await self._execute(_ACCEPTED, parts[0].at, keys, indexes, ids, norms)

    async def record_statuses(self, changes: Sequence[ps.PartStatusChange]) -> None:
        latest: dict[ps.PartRef, ps.PartStatusChange] = {}
        for change in changes:
            known = latest.get(change.ref)
            if known is None or known.status not in FINAL_STATUSES:
                latest[change.ref] = change
        if not latest:
            return
        kept = list(latest.values())
        keys, indexes = _keys([c.ref for c in kept])
        statuses = [c.status.value for c in kept]
        errors = [c.error for c in kept]
        await self._execute(_STATUSES, max(c.at for c in kept), keys, indexes, statuses, errors)

    async def record_unmatched_receipts(self, receipts: Sequence[ps.UnmatchedReceipt]) -> None:
        if receipts:
            await self.db.executemany(
                "INSERT INTO sms_unmatched_receipts (smsc_message_id, status, received_at) "
                "VALUES ($1, $2, $3)",
                [(r.message_id, r.status.value, r.at) for r in receipts],
            )

    async def match_receipts(self, message_ids: Sequence[str]) -> dict[str, ps.PartRef]:
        pairs = [(rid, cand) for rid in message_ids for cand in receipt_candidates(rid)]
        if not pairs:
            return {}
        rows = await self._fetch(_MATCH, [p[0] for p in pairs], [p[1] for p in pairs])
        found: dict[str, list[tuple[bool, ps.PartRef]]] = {}
        for row in rows:
            ref = ps.PartRef(row["message_key"], row["part_no"], row["part_count"])
            exact = row["smsc_id_norm"] == normalise_id(row["rid"])
            found.setdefault(row["rid"], []).append((exact, ref))
        out: dict[str, ps.PartRef] = {}
        for rid, hits in found.items():
            exact = {ref for is_exact, ref in hits if is_exact}
            every = {ref for _, ref in hits}
            chosen = exact if exact else every
            if len(chosen) == 1:  # an ambiguous id is left unmatched, never guessed
                out[rid] = next(iter(chosen))
        return out
