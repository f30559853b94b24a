"""PostgreSQL repository for lists and the bulk lead import (staged COPY, deduplicating INSERT)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from campaigns.normalise import STAGING_COLUMNS
from storage.database import Connection

STAGE = "import_stage"

CREATE_STAGE = f"""
CREATE TEMP TABLE IF NOT EXISTS {STAGE} (
    line integer NOT NULL, phone text NOT NULL, alt_phones text[], first_name text,
    last_name text, email text, country text, region text, postal_code text,
    tz_candidates text[], tz_explicit text, custom jsonb
) ON COMMIT DROP
"""

# First occurrence in the file wins (DISTINCT ON ... ORDER BY line); the unique index on
# (campaign_id, phone) rejects numbers already in the campaign, including earlier batches.
# One row comes back: how many inserted leads keep an ambiguous zone, and the duplicates.
INSERT_FROM_STAGE = f"""
WITH inserted AS (
    INSERT INTO leads (tenant_id, campaign_id, list_id, phone, alt_phones, first_name, last_name,
                       email, country, region, postal_code, tz_candidates, tz_explicit, custom,
                       source_line)
    SELECT DISTINCT ON (phone) $1::bigint, $2::bigint, $3::bigint, phone, alt_phones, first_name,
           last_name, email, country, region, postal_code, tz_candidates, tz_explicit, custom, line
    FROM {STAGE}
    ORDER BY phone, line
    ON CONFLICT (campaign_id, phone) DO NOTHING
    RETURNING source_line, (tz_explicit IS NULL AND cardinality(tz_candidates) <> 1) AS ambiguous
), duplicates AS (
    SELECT s.line, s.phone FROM {STAGE} s
    LEFT JOIN inserted i ON i.source_line = s.line
    WHERE i.source_line IS NULL
)
SELECT (SELECT count(*) FROM inserted WHERE ambiguous) AS ambiguous,
       (SELECT coalesce(array_agg(line ORDER BY line), '{{}}') FROM duplicates) AS lines,
       (SELECT coalesce(array_agg(phone ORDER BY line), '{{}}') FROM duplicates) AS phones
"""


async def create_list(
    conn: Connection, tenant_id: int, campaign_id: int, name: str, source_file: str
) -> int:
    value = await conn.fetchval(
        "INSERT INTO lists (tenant_id, campaign_id, name, source_file) VALUES ($1, $2, $3, $4) "
        "RETURNING id",
        tenant_id,
        campaign_id,
        name,
        source_file,
    )
    return int(value)


async def create_stage(conn: Connection) -> None:
    await conn.execute(CREATE_STAGE)


async def insert_batch(
    conn: Connection, parts: list[bytes], tenant_id: int, campaign_id: int, list_id: int
) -> tuple[int, list[tuple[int, str]]]:
    """COPY one batch (COPY text parts) into the stage and move it into leads; return how many
    inserted leads keep an ambiguous zone and the (line, phone) duplicates. Parts are streamed
    as they are: joining them would allocate one large buffer per batch, which fragments the
    heap and makes the process's memory creep."""

    async def stream() -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    await conn.copy_to_table(STAGE, source=stream(), columns=list(STAGING_COLUMNS), format="text")
    row = await conn.fetchrow(INSERT_FROM_STAGE, tenant_id, campaign_id, list_id)
    await conn.execute(f"TRUNCATE {STAGE}")
    assert row is not None
    return int(row["ambiguous"]), list(zip(row["lines"], row["phones"], strict=True))


async def finish_list(
    conn: Connection, list_id: int, counts: dict[str, int], status: str = "ready"
) -> None:
    await conn.execute(
        "UPDATE lists SET rows = $2, imported = $3, invalid = $4, duplicates = $5, "
        "ambiguous_zone = $6, status = $7, finished_at = now() WHERE id = $1",
        list_id,
        counts["rows"],
        counts["imported"],
        counts["invalid"],
        counts["duplicates"],
        counts["ambiguous_zone"],
        status,
    )
