"""`dialer bench import`: end-to-end list import against the bare phonenumbers rate (§4)."""

from __future__ import annotations

import argparse
import contextlib
import csv
import itertools
import multiprocessing
import os
import threading
import time
from pathlib import Path
from typing import Any

import phonenumbers
import psutil

from campaigns import service
from campaigns.lead_import import ImportOptions, import_list
from campaigns.models import CampaignDraft
from cli.context import run_async
from cli.listgen import ListSpec, write_list
from cli.output import emit, info
from cli.progress import Progress
from config import Settings
from storage.database import scratch_database
from storage.runtime import open_storage

TARGET_SECONDS_PER_MILLION = 60.0
TARGET_PEAK_RSS_MB = 400.0
TARGET_RATIO = 0.6
BASELINE_MAX_ROWS = 300_000
SERVER_PROCESS_NAMES = ("postgres", "redis-server", "pg_ctl")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("import", help="list import rows/s vs the bare phonenumbers rate")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=0, help="worker processes (0: one per core)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run_bench)


def _timed_parse_validate(path: Path, index: int, workers: int) -> tuple[int, float]:
    """In a worker: this worker's share of the file's phones, parsed and validated, timed."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        rows = itertools.islice(reader, BASELINE_MAX_ROWS)
        phones = [row[2] for n, row in enumerate(rows) if n % workers == index]
    started = time.perf_counter()
    for raw in phones:
        with contextlib.suppress(phonenumbers.NumberParseException):
            phonenumbers.is_valid_number(phonenumbers.parse(raw, "US"))
    return len(phones), time.perf_counter() - started


def baseline_rate(path: Path, workers: int) -> float:
    """Bare parse+validate rows/s on `workers` processes over the same file's phones.

    Each worker reads its own share, so the benchmark's main process never holds the sample.
    """
    context = multiprocessing.get_context("forkserver")
    with context.Pool(workers) as pool:
        results = pool.starmap(_timed_parse_validate, [(path, i, workers) for i in range(workers)])
    rows = sum(count for count, _ in results)
    return rows / max(elapsed for _, elapsed in results)


class RssSampler:
    """Peak of the summed RSS of this process and its children (database servers excluded)."""

    def __init__(self, interval_s: float = 0.05) -> None:
        self.interval_s = interval_s
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = psutil.Process(os.getpid())
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    if proc.name() not in SERVER_PROCESS_NAMES:
                        total += proc.memory_info().rss
                except psutil.Error:
                    continue
            self.peak_bytes = max(self.peak_bytes, total)
            self._stop.wait(self.interval_s)


async def _measure_import(settings: Settings, path: Path, workers: int) -> dict[str, Any]:
    """Import into a scratch database on the same server, so the benchmark leaves nothing behind."""
    progress = Progress("importing")
    async with (
        open_storage(settings, with_redis=False) as storage,
        scratch_database(storage.pool, storage.database_dsn, "bench_import") as pool,
    ):
        tenant = settings.default_tenant
        name = "bench import"
        await service.create_campaign(pool, tenant, CampaignDraft(name=name), actor="bench")
        options = ImportOptions(
            workers=workers, errors_path=path.with_suffix(".errors.csv"), actor="bench"
        )
        with RssSampler() as rss:
            summary = await import_list(pool, tenant, name, path, options, progress.update)
        progress.close()
    report = summary.report()
    report["peak_rss_mb"] = round(rss.peak_bytes / 2**20, 1)
    return report


def run_bench(args: argparse.Namespace, settings: Settings) -> int:
    workers = args.workers or os.cpu_count() or 1
    folder = settings.data_dir / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"import-{args.rows}.csv"
    info(f"generating {args.rows:,} rows into {path}")
    expected = write_list(path, ListSpec(rows=args.rows))
    info("importing end to end")
    result = run_async(lambda: _measure_import(settings, path, workers))
    info(f"measuring the bare phonenumbers parse+validate rate on {workers} processes")
    baseline = baseline_rate(path, workers)
    rate = result["rows"] / result["seconds"] if result["seconds"] else 0.0
    allowed_s = TARGET_SECONDS_PER_MILLION * args.rows / 1_000_000
    report = {
        "rows": result["rows"],
        "imported": result["imported"],
        "invalid": result["invalid"],
        "duplicates": result["duplicates"],
        "ambiguous_zone": result["ambiguous_zone"],
        "expected": {
            "rows": expected.rows,
            "invalid": expected.invalid,
            "duplicates": expected.duplicates,
        },
        "counts_exact": (result["invalid"], result["duplicates"])
        == (expected.invalid, expected.duplicates),
        "seconds": result["seconds"],
        "rows_per_s": round(rate),
        "baseline_rows_per_s": round(baseline),
        "ratio": round(rate / baseline, 3),
        "peak_rss_mb": result["peak_rss_mb"],
        "workers": workers,
        "targets": {"seconds": allowed_s, "peak_rss_mb": TARGET_PEAK_RSS_MB, "ratio": TARGET_RATIO},
    }
    report["pass"] = (
        report["seconds"] <= allowed_s
        and report["peak_rss_mb"] <= TARGET_PEAK_RSS_MB
        and report["ratio"] >= TARGET_RATIO
        and report["counts_exact"]
    )
    emit(report, as_json=args.json)
    return 0
