"""PostgreSQL repository for bulk DNC lists: registry copies and imported lists, as bigint digits.

Each import is a row of dnc_registry_imports plus a partition `dnc_bulk_numbers_<id>` of sorted
E.164 digits, written with one binary COPY built by numpy (26 bytes a number on the wire, no
Python object per number) into a table created in the same transaction (COPY FREEZE), indexed
with BRIN. The previous copy of the same list (scope, owner, channel) is marked replaced and its
partition dropped in that transaction, so readers see the old list or the new one, never a mix.
Reading a list back is one binary COPY decoded by numpy.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg
import numpy as np

from compliance.dnc import DncSet, Keys
from compliance.dnc_store import owner_of
from config.vocabulary import DncChannel, DncScope
from storage.database import Connection, Executor

COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
COPY_TRAILER = b"\xff\xff"
_ROW_IN = np.dtype([("n", ">i2"), ("l1", ">i4"), ("a", ">i8"), ("l2", ">i4"), ("b", ">i8")])
_ROW_OUT = np.dtype([("n", ">i2"), ("l", ">i4"), ("v", ">i8")])
COPY_ROWS_PER_CHUNK = 500_000


@dataclass(frozen=True)
class BulkImport:
    """One bulk list copy (a row of dnc_registry_imports)."""

    id: int
    scope: DncScope
    channel: DncChannel
    tenant_id: int | None
    campaign_id: int | None
    registry: bool
    as_of: date | None
    source: str
    numbers: int
    rows: int
    invalid: int
    duplicates: int
    imported_at: datetime
    replaced_at: datetime | None

    @property
    def owner(self) -> str | None:
        return owner_of(self.scope, self.tenant_id, self.campaign_id)

    def to_set(self, digits: Keys) -> DncSet:
        return DncSet(
            self.scope, self.channel, digits, self.owner, self.registry, self.source, self.as_of
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "registry" if self.registry else "bulk",
            "import_id": self.id,
            "scope": self.scope.value,
            "channel": self.channel.value,
            "tenant_id": self.tenant_id,
            "campaign_id": self.campaign_id,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "source": self.source,
            "numbers": self.numbers,
            "imported_at": self.imported_at,
        }


def _bulk(row: asyncpg.Record) -> BulkImport:
    return BulkImport(
        id=row["id"],
        scope=DncScope(row["scope"]),
        channel=DncChannel(row["channel"]),
        tenant_id=row["tenant_id"],
        campaign_id=row["campaign_id"],
        registry=row["registry"],
        as_of=row["as_of"],
        source=row["source"],
        numbers=row["numbers"],
        rows=row["rows"],
        invalid=row["invalid"],
        duplicates=row["duplicates"],
        imported_at=row["imported_at"],
        replaced_at=row["replaced_at"],
    )


def partition_name(import_id: int) -> str:
    return f"dnc_bulk_numbers_{int(import_id)}"


def encode_copy(import_id: int, digits: Keys) -> bytes:
    """Binary COPY rows (import_id, number) for a slice of digits (no header or trailer)."""
    rows = np.empty(digits.size, dtype=_ROW_IN)
    rows["n"], rows["l1"], rows["a"], rows["l2"], rows["b"] = 2, 8, import_id, 8, digits
    return rows.tobytes()


def decode_copy(data: bytes) -> Keys:
    """The numbers of a binary `COPY (SELECT number ...) TO STDOUT`, sorted."""
    if len(data) < len(COPY_HEADER) + len(COPY_TRAILER):
        return np.zeros(0, dtype=np.int64)
    count = (len(data) - len(COPY_HEADER) - len(COPY_TRAILER)) // _ROW_OUT.itemsize
    rows = np.frombuffer(data, dtype=_ROW_OUT, offset=len(COPY_HEADER), count=count)
    digits = rows["v"].astype(np.int64)
    if digits.size > 1 and not bool(np.all(digits[1:] > digits[:-1])):
        digits = np.unique(digits)  # a scan may start mid-table (synchronised seq scans)
    return digits


async def _copy_source(import_id: int, digits: Keys) -> AsyncIterator[bytes]:
    yield COPY_HEADER
    for start in range(0, digits.size, COPY_ROWS_PER_CHUNK):
        yield encode_copy(import_id, digits[start : start + COPY_ROWS_PER_CHUNK])
    yield COPY_TRAILER


@dataclass(frozen=True)
class ImportMeta:
    """What describes a bulk list copy besides its numbers."""

    scope: DncScope
    channel: DncChannel
    tenant_id: int | None
    campaign_id: int | None
    as_of: date | None
    source: str
    rows: int
    invalid: int
    duplicates: int
    actor: str


async def replace_list(conn: Connection, meta: ImportMeta, digits: Keys) -> tuple[int, list[int]]:
    """Store a new copy of a list and retire the previous one; (new id, replaced ids).

    Call inside a transaction. Concurrent imports of the same list queue on an advisory lock.
    """
    key = f"dnc-bulk:{meta.scope.value}:{meta.tenant_id}:{meta.campaign_id}:{meta.channel.value}"
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", key)
    replaced = await conn.fetch(
        """
        UPDATE dnc_registry_imports SET replaced_at = now()
        WHERE replaced_at IS NULL AND scope = $1 AND channel = $2
          AND coalesce(tenant_id, 0) = coalesce($3::bigint, 0)
          AND coalesce(campaign_id, 0) = coalesce($4::bigint, 0)
        RETURNING id
        """,
        meta.scope.value,
        meta.channel.value,
        meta.tenant_id,
        meta.campaign_id,
    )
    import_id = int(
        await conn.fetchval(
            """
            INSERT INTO dnc_registry_imports (source, as_of, numbers, scope, tenant_id,
                campaign_id, channel, registry, rows, invalid, duplicates, actor)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id
            """,
            meta.source,
            meta.as_of,
            int(digits.size),
            meta.scope.value,
            meta.tenant_id,
            meta.campaign_id,
            meta.channel.value,
            meta.as_of is not None,
            meta.rows,
            meta.invalid,
            meta.duplicates,
            meta.actor,
        )
    )
    table = partition_name(import_id)
    await conn.execute(
        f"CREATE TABLE {table} PARTITION OF dnc_bulk_numbers FOR VALUES IN ({import_id})"
    )
    await conn.copy_to_table(
        table, source=_copy_source(import_id, digits), format="binary", freeze=True
    )
    await conn.execute(f"CREATE INDEX {table}_number ON {table} USING brin (number)")
    await conn.execute(f"ANALYZE {table}")
    old = [int(r["id"]) for r in replaced]
    for old_id in old:
        await conn.execute(f"DROP TABLE IF EXISTS {partition_name(old_id)}")
    return import_id, old


async def imports_in_force(db: Executor) -> list[BulkImport]:
    rows = await db.fetch(
        "SELECT * FROM dnc_registry_imports WHERE replaced_at IS NULL ORDER BY id"
    )
    return [_bulk(r) for r in rows]


async def import_by_id(db: Executor, import_id: int) -> BulkImport | None:
    row = await db.fetchrow("SELECT * FROM dnc_registry_imports WHERE id = $1", import_id)
    return _bulk(row) if row else None


async def load_numbers(conn: Connection, import_id: int) -> Keys:
    """Every number of one import as a sorted int64 array (binary COPY, decoded by numpy)."""
    buffer = io.BytesIO()

    async def sink(data: bytes) -> None:
        buffer.write(data)

    await conn.copy_from_query(
        "SELECT number FROM dnc_bulk_numbers WHERE import_id = $1",
        import_id,
        output=sink,
        format="binary",
    )
    return decode_copy(buffer.getvalue())


async def imports_listing(
    db: Executor, key: int, *, tenant_id: int | None, campaign_id: int | None
) -> list[BulkImport]:
    """The lists in force (global, this tenant's, this campaign's) that hold `key`."""
    rows = await db.fetch(
        """
        SELECT i.* FROM dnc_registry_imports i
        WHERE i.replaced_at IS NULL
          AND (i.scope = 'global' OR (i.scope = 'tenant' AND i.tenant_id = $2)
               OR (i.scope = 'campaign' AND i.campaign_id = $3))
          AND i.id IN (SELECT import_id FROM dnc_bulk_numbers WHERE number = $1)
        ORDER BY i.id
        """,
        key,
        tenant_id,
        campaign_id,
    )
    return [_bulk(r) for r in rows]


async def registry_as_of(
    db: Executor, *, tenant_id: int | None, campaign_id: int | None
) -> date | None:
    """The oldest as-of date among registry copies in force for this tenant/campaign."""
    value = await db.fetchval(
        """
        SELECT min(as_of) FROM dnc_registry_imports
        WHERE replaced_at IS NULL AND registry
          AND (scope = 'global' OR (scope = 'tenant' AND tenant_id = $1)
               OR (scope = 'campaign' AND campaign_id = $2))
        """,
        tenant_id,
        campaign_id,
    )
    return value if isinstance(value, date) else None
