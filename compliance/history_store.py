"""PostgreSQL reads of the attempts table: cap histories, cool-down facts and abandon ledgers.

Attempt histories are counted per lead, per number (any lead of the tenant) and per debtor (the
lead's person: every lead of the tenant sharing its `custom.debtor_id`, else the lead itself, and
all their numbers), on the same kind of channel (voice: call and automated; or sms), from the
attempt row's `created_at` (written before the call is placed). Cool-downs read the number's
last abandoned call and last AMD machine. Abandon ledgers count drops, agent-handled humans and
AMD machines per campaign and per campaign group, over the windows of compliance.ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from compliance.facts import AbandonState, Attempts
from compliance.ledger import Counts, report_from_counts, window_bounds
from compliance.rulesets import AbandonRegime
from config.vocabulary import Channel
from storage.database import Executor

VOICE_CHANNELS = ("call", "automated")


def channels_like(channel: Channel) -> list[str]:
    """The attempt channels that count towards caps on `channel`."""
    return ["sms"] if channel is Channel.SMS else list(VOICE_CHANNELS)


@dataclass(frozen=True)
class History:
    attempts: Attempts
    last_abandon_at: datetime | None
    last_machine_at: datetime | None


HISTORY_SQL = """
WITH person AS (
    SELECT id, phone, alt_phones FROM leads
    WHERE tenant_id = $1 AND (id = $2 OR ($3::text IS NOT NULL AND custom ? 'debtor_id'
                                          AND custom->>'debtor_id' = $3))
), phones AS (
    SELECT phone FROM person UNION SELECT unnest(alt_phones) FROM person UNION SELECT $4::text
)
SELECT lead_id, phone, created_at, outcome, amd_result,
       coalesce(ended_at, answered_at, created_at) AS event_at
FROM attempts
WHERE tenant_id = $1 AND created_at > $5 AND created_at <= $6 AND channel = ANY($7::text[])
  AND (lead_id IN (SELECT id FROM person) OR phone IN (SELECT phone FROM phones))
"""


async def history(
    db: Executor,
    *,
    tenant_id: int,
    lead_id: int | None,
    phone: str,
    debtor_id: str | None,
    channel: Channel,
    now: datetime,
    lookback_s: float,
) -> History:
    """The attempts relevant to caps and cool-downs at `now`, `lookback_s` back."""
    since = now - timedelta(seconds=lookback_s)
    rows = await db.fetch(
        HISTORY_SQL, tenant_id, lead_id or 0, debtor_id, phone, since, now, channels_like(channel)
    )
    lead: list[datetime] = []
    number: list[datetime] = []
    debtor: list[datetime] = []
    last_abandon: datetime | None = None
    last_machine: datetime | None = None
    for row in rows:
        at = row["created_at"]
        debtor.append(at)
        if lead_id is not None and row["lead_id"] == lead_id:
            lead.append(at)
        if row["phone"] == phone:
            number.append(at)
            event = row["event_at"]
            if row["outcome"] == "abandoned" and (last_abandon is None or event > last_abandon):
                last_abandon = event
            if row["amd_result"] == "machine" and (last_machine is None or event > last_machine):
                last_machine = event
    return History(Attempts.of(lead, number, debtor), last_abandon, last_machine)


async def ledger_start(db: Executor, campaign_ids: list[int]) -> datetime | None:
    """When the campaigns started calling: their first attempt."""
    value = await db.fetchval(
        "SELECT min(created_at) FROM attempts WHERE campaign_id = ANY($1::bigint[])", campaign_ids
    )
    return value if isinstance(value, datetime) else None


def _ledger_sql(windows: tuple[str, ...]) -> str:
    parts = []
    for i, _ in enumerate(windows):
        lo, hi, op = f"${3 * i + 2}", f"${3 * i + 3}", f"${3 * i + 4}"
        inside = f"((t >= {lo} AND {op}) OR t > {lo}) AND t <= {hi}"
        parts += [
            f"count(*) FILTER (WHERE drop AND {inside})",
            f"count(*) FILTER (WHERE human AND {inside})",
            f"count(*) FILTER (WHERE machine AND {inside})",
        ]
    return f"""
    WITH ev AS (
        SELECT coalesce(ended_at, answered_at, created_at) AS t,
               outcome = 'abandoned' AS drop,
               outcome = 'answered' AND amd_result IS DISTINCT FROM 'machine' AS human,
               outcome = 'answered' AND amd_result = 'machine' AS machine
        FROM attempts
        WHERE campaign_id = ANY($1::bigint[]) AND outcome IN ('abandoned', 'answered')
    )
    SELECT {", ".join(parts)} FROM ev
    """


async def abandon_state(
    db: Executor, campaign_ids: list[int], regime: AbandonRegime, now: datetime
) -> AbandonState:
    """The ledger's answer for a campaign (or a group: several ids) at `now`."""
    started = await ledger_start(db, campaign_ids) or now
    args: list[object] = [campaign_ids]
    for window in regime.windows:
        lo, hi, lo_inclusive = window_bounds(window, started.timestamp(), now.timestamp())
        args += [datetime.fromtimestamp(lo, UTC), datetime.fromtimestamp(hi, UTC), lo_inclusive]
    row = await db.fetchrow(_ledger_sql(regime.windows), *args)
    assert row is not None
    counts = {
        w: Counts(int(row[3 * i]), int(row[3 * i + 1]), int(row[3 * i + 2]))
        for i, w in enumerate(regime.windows)
    }
    return report_from_counts(counts, regime).state()


async def group_members(db: Executor, campaign_id: int) -> list[int]:
    """The campaigns sharing the campaign's group (empty when it has none)."""
    rows = await db.fetch(
        "SELECT c.id FROM campaigns c JOIN campaigns me ON me.group_id = c.group_id "
        "WHERE me.id = $1 AND me.group_id IS NOT NULL ORDER BY c.id",
        campaign_id,
    )
    return [int(r["id"]) for r in rows]
