"""List import: stream a call list, normalise it on every core, COPY it in, report exact counts.

Pipeline: the file is read and split into chunks here; worker processes normalise chunks (the
phonenumbers work); results come back in order and are written in batches through a staging
table whose INSERT deduplicates against the campaign's unique (campaign, phone) index. The whole
import is one transaction: a crash leaves no partial list behind. At most `window` chunks are in
flight, so memory stays flat whatever the file's size.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import itertools
import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import asyncpg

from campaigns import lead_store
from campaigns.columns import ColumnMap, build_column_map, headerless_map, parse_map_option
from campaigns.csv_source import RawChunk, RawRecordReader, Record, detect_format
from campaigns.models import Campaign, ValidationError
from campaigns.normalise import (
    ChunkResult,
    ImportContext,
    ValidNumber,
    normalise_phone,
    normalise_raw_chunk,
)
from campaigns.service import get_campaign
from storage.audit import append_audit
from storage.database import Connection

log = logging.getLogger("campaigns.import")

INLINE_MAX_BYTES = 2 << 20
ZONE_HINT = (
    "add a timezone, ZIP or state column to the list (or --map timezone=COLUMN), or have a "
    "manager set the campaign's assume-zone"
)


@dataclass(frozen=True)
class ImportOptions:
    default_region: str | None = None
    column_map: str | None = None
    errors_path: Path | None = None
    list_name: str | None = None
    workers: int = 0
    chunk_rows: int = 5000
    batch_rows: int = 25_000
    error_sample_size: int = 20
    actor: str = "cli"


@dataclass
class ImportSummary:
    campaign: str
    list_id: int | None = None
    rows: int = 0
    imported: int = 0
    invalid: int = 0
    duplicates: int = 0
    ambiguous_zone: int = 0
    seconds: float = 0.0
    encoding: str = ""
    delimiter: str = ""
    errors: list[dict[str, Any]] = field(default_factory=list)
    errors_file: str | None = None
    zone_hint: str | None = None

    def report(self) -> dict[str, Any]:
        return dict(self.__dict__)


class ErrorReport:
    """The full per-line report (CSV: line, reason, raw_phone) plus a sample for the summary."""

    def __init__(self, path: Path, sample_size: int) -> None:
        self.path = path
        self.sample_size = sample_size
        self.sample: list[dict[str, Any]] = []
        try:
            self._fh: TextIO = path.open("w", encoding="utf-8", newline="")
        except OSError as exc:
            message = (
                f"cannot write the error report {path} ({exc.strerror}); choose one with --errors"
            )
            raise ValidationError("errors", message) from exc
        self._writer = csv.writer(self._fh)
        self._writer.writerow(["line", "reason", "raw_phone"])

    def invalid(self, line: int, reason: str, raw: str) -> None:
        self._writer.writerow([line, reason, raw])
        if len(self.sample) < self.sample_size:
            self.sample.append({"line": line, "reason": reason, "raw_phone": raw})

    def duplicate(self, line: int, phone: str) -> None:
        self._writer.writerow([line, "duplicate: number already in this file or campaign", phone])

    def close(self) -> None:
        self._fh.close()


def resolve_columns(
    first: Record | None, explicit_text: str | None, region: str
) -> tuple[ColumnMap | None, bool]:
    """The column map and whether the first record is a header (False: it is data)."""
    if first is None:
        return None, True
    explicit = parse_map_option(explicit_text)
    found = build_column_map(first[1], explicit)
    if found is not None:
        return found, True
    if "phone" in explicit:
        raise ValidationError("map", "the phone column is not in the header")
    for index, value in enumerate(first[1]):
        if isinstance(normalise_phone(value, region), ValidNumber):
            return headerless_map(first[1], index), False
    headers = ", ".join(first[1][:20])
    raise ValidationError(
        "file", f"no phone column found (header: {headers}); name it with --map phone=COLUMN"
    )


def make_executor(workers: int, path: Path) -> Executor | None:
    """A process pool for big files; None (inline) for small ones or a single worker."""
    count = workers or os.cpu_count() or 1
    if count <= 1 or path.stat().st_size <= INLINE_MAX_BYTES:
        return None
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["campaigns.normalise", "campaigns.zones"])
    return ProcessPoolExecutor(max_workers=count, mp_context=context)


class BatchWriter:
    """Accumulates normalised chunks into batches and inserts them in file order from a
    background task, so the workers keep normalising while PostgreSQL inserts: one batch
    inserting and at most one full batch waiting behind it (memory stays bounded)."""

    def __init__(
        self,
        conn: Connection,
        ids: tuple[int, int, int],
        report: ErrorReport,
        summary: ImportSummary,
        batch_rows: int,
    ) -> None:
        self.conn, self.ids, self.report, self.summary = conn, ids, report, summary
        self.batch_rows = batch_rows
        self.parts: list[bytes] = []
        self.valid = 0
        self.queue: asyncio.Queue[tuple[list[bytes], int] | None] = asyncio.Queue(maxsize=1)
        self.task = asyncio.create_task(self._drain())

    async def add(self, result: ChunkResult) -> None:
        self.summary.rows += result.rows
        self.summary.invalid += result.invalid
        for line, reason, raw in result.errors:
            self.report.invalid(line, reason, raw)
        if result.valid:
            self.parts.append(result.copy_data)
            self.valid += result.valid
        if self.valid >= self.batch_rows:
            await self._submit()

    async def close(self) -> None:
        """Write what is left and wait for every batch (raises the first insert's error)."""
        await self._submit()
        await self._put(None)
        await self.task

    async def abort(self) -> None:
        """Stop writing (the transaction is about to roll back) and wait until it stopped."""
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task

    async def _submit(self) -> None:
        if self.parts:
            batch = (self.parts, self.valid)
            self.parts, self.valid = [], 0
            await self._put(batch)

    async def _put(self, item: tuple[list[bytes], int] | None) -> None:
        """Queue an item; if the writer has failed meanwhile, raise its error instead of
        waiting for room that never comes."""
        put = asyncio.ensure_future(self.queue.put(item))
        await asyncio.wait({put, self.task}, return_when=asyncio.FIRST_COMPLETED)
        if not put.done():
            put.cancel()
            self.task.result()  # raises the insert's error
            raise RuntimeError("the batch writer stopped early")

    async def _drain(self) -> None:
        while (item := await self.queue.get()) is not None:
            await self._write(*item)

    async def _write(self, parts: list[bytes], valid: int) -> None:
        ambiguous, duplicates = await lead_store.insert_batch(self.conn, parts, *self.ids)
        for line, phone in duplicates:
            self.report.duplicate(line, phone)
        self.summary.duplicates += len(duplicates)
        self.summary.imported += valid - len(duplicates)
        self.summary.ambiguous_zone += ambiguous


async def _run_chunks(
    chunks: Iterator[RawChunk],
    ctx: ImportContext,
    executor: Executor | None,
    writer: BatchWriter,
    progress: Callable[[int], None] | None,
) -> None:
    loop = asyncio.get_running_loop()
    window = 3 * getattr(executor, "_max_workers", 1)
    pending: deque[asyncio.Future[ChunkResult]] = deque()
    for chunk in chunks:
        if executor is None:
            await writer.add(normalise_raw_chunk(chunk, ctx))
        else:
            pending.append(loop.run_in_executor(executor, normalise_raw_chunk, chunk, ctx))
            while len(pending) >= window:
                await writer.add(await pending.popleft())
        if progress:
            progress(writer.summary.rows)
    while pending:
        await writer.add(await pending.popleft())
    await writer.close()
    if progress:
        progress(writer.summary.rows)


async def import_list(
    pool: asyncpg.Pool,
    tenant_name: str,
    campaign_name: str,
    path: Path,
    options: ImportOptions,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import one call list file into a campaign; counts follow GLOSSARY.md exactly."""
    started = time.monotonic()
    campaign = await get_campaign(pool, tenant_name, campaign_name)
    region = (options.default_region or campaign.default_country).upper()
    fmt = detect_format(path)
    summary = ImportSummary(campaign=campaign.name, encoding=fmt.encoding, delimiter=fmt.delimiter)
    errors_path = options.errors_path or path.with_name(path.name + ".errors.csv")
    report = ErrorReport(errors_path, options.error_sample_size)
    try:
        with path.open("rb") as fh:
            reader = RawRecordReader(fh, fmt)
            first, first_raw = reader.first_record()
            columns, first_is_header = resolve_columns(first, options.column_map, region)
            chunks = reader.chunks(options.chunk_rows)
            if first_raw is not None and not first_is_header:
                chunks = itertools.chain([first_raw], chunks)
            ctx = ImportContext(region, columns, fmt) if columns else None
            async with pool.acquire() as conn, conn.transaction():
                await _import_in_transaction(conn, campaign, path, options, ctx, chunks, report,
                                             summary, progress)  # fmt: skip
    finally:
        report.close()
    summary.errors = report.sample
    summary.errors_file = str(errors_path)
    summary.zone_hint = ZONE_HINT if summary.ambiguous_zone else None
    summary.seconds = round(time.monotonic() - started, 3)
    log.info("list imported", extra={"fields": _counts(summary)})
    return summary


async def _import_in_transaction(
    conn: Connection,
    campaign: Campaign,
    path: Path,
    options: ImportOptions,
    ctx: ImportContext | None,
    chunks: Iterator[RawChunk],
    report: ErrorReport,
    summary: ImportSummary,
    progress: Callable[[int], None] | None,
) -> None:
    list_name = options.list_name or path.name
    list_id = await lead_store.create_list(
        conn, campaign.tenant_id, campaign.id, list_name, str(path)
    )
    summary.list_id = list_id
    if ctx is not None:
        await lead_store.create_stage(conn)
        ids = (campaign.tenant_id, campaign.id, list_id)
        executor = make_executor(options.workers, path)
        writer = BatchWriter(conn, ids, report, summary, options.batch_rows)
        try:
            await _run_chunks(chunks, ctx, executor, writer, progress)
        except BaseException:
            await writer.abort()
            raise
        finally:
            if executor is not None:
                executor.shutdown(cancel_futures=True)
    await lead_store.finish_list(conn, list_id, summary.report())
    await append_audit(
        conn,
        tenant_id=campaign.tenant_id,
        actor=options.actor,
        action="list.import",
        subject=f"list:{list_id}",
        data=_counts(summary),
    )


def _counts(summary: ImportSummary) -> dict[str, Any]:
    keys = ("rows", "imported", "invalid", "duplicates", "ambiguous_zone", "list_id")
    return {k: getattr(summary, k) for k in keys}
