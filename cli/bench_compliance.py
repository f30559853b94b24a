"""`dialer bench compliance`: verdicts/s for many leads against a big DNC list; DNC import time.

One process, one core: a generated registry file of `--dnc` numbers is imported (digits-only fast
path) and timed; then `--leads` leads of mixed rule sets (us/uk/ru/eu, single- and multi-zone,
5 % on the DNC list, some with attempt histories) each get a DNC lookup, a facts value and a
verdict at one of several instants of the day (about half are refusals, which also compute
`next_allowed_at`). Unless `--no-db`, the same file is also imported end to end into PostgreSQL
(parse, binary COPY into a partition, BRIN index, ANALYZE, commit) in a scratch database that is
dropped afterwards, and read back as an engine node's cache would. The leads are decided in 5
slices timed in CPU seconds of this single-threaded process (verdicts per core, robust to other
load on a shared machine); the median slice rate is the headline. The same run measures a floor
(the bare zone conversion and DNC probe per lead) and reports the ratio. Targets: >= 50,000
verdicts/s per core, DNC import of 10 M numbers <= 60 s (in memory and into PostgreSQL). The
pre-built lead list is frozen out of the garbage collector (`gc.freeze`), as
an engine streaming leads from the database never holds a million of them.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import psutil

from cli.context import run_async
from cli.output import emit, info
from compliance import bulk_store
from compliance.dnc import DncIndex, e164_key
from compliance.dnc_service import DncService
from compliance.engine import evaluate
from compliance.facts import (
    DAY_S,
    Attempts,
    CampaignRules,
    Cap,
    ContactFacts,
    campaign_window,
)
from compliance.registry import load_registry
from compliance.schedule import zone_info
from config import Settings
from config.vocabulary import Channel, DialMode, DncChannel, DncScope, Purpose, RuleSetName
from storage import migrations
from storage.database import create_pool
from storage.embedded_pg import EmbeddedPostgres
from storage.runtime import open_storage

TARGET_VERDICTS_PER_S = 50_000.0
TARGET_IMPORT_S_PER_10M = 60.0
DNC_SHARE = 0.05
SLICES = 5
WARM_UP_LEADS = 5_000
AS_OF = date(2025, 6, 1)
BASE_NOW = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
US_ZONES = (
    ("America/New_York", "NY"),
    ("America/Chicago", "IL"),
    ("America/Denver", "CO"),
    ("America/Los_Angeles", "CA"),
    ("America/New_York", "FL"),
    ("America/Chicago", "TX"),
)
RU_ZONES = ("Europe/Moscow", "Asia/Yekaterinburg", "Asia/Novosibirsk", "Asia/Vladivostok")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("compliance", help="compliance verdicts/s and DNC import time")
    parser.add_argument("--leads", type=int, default=1_000_000, help="leads to decide")
    parser.add_argument("--dnc", type=int, default=10_000_000, help="numbers in the DNC registry")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--no-db",
        dest="db",
        action="store_false",
        help="skip the PostgreSQL import (in-memory figures only)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run_bench)


@dataclass(frozen=True)
class Lead:
    phone: str
    country: str
    campaign: CampaignRules
    purpose: Purpose
    region: str | None
    zones: tuple[str, ...]
    attempts: Attempts


def write_registry(path: Path, count: int, rng: np.random.Generator) -> np.ndarray:
    """A digits-only registry file of `count` distinct US national numbers; returns them."""
    numbers = np.unique(rng.integers(2_002_000_000, 9_899_999_999, size=int(count * 1.02)))
    numbers = rng.permutation(numbers)[:count]
    powers = 10 ** np.arange(9, -1, -1, dtype=np.int64)
    with path.open("wb") as handle:
        for part in np.array_split(numbers, max(1, count // 1_000_000)):
            digits = (part[:, None] // powers) % 10 + 48
            lines = np.concatenate([digits, np.full((part.size, 1), 10)], axis=1)
            handle.write(lines.astype(np.uint8).tobytes())
    return numbers


def campaigns() -> dict[str, CampaignRules]:
    caps = (Cap(3, DAY_S), Cap(10, 7 * DAY_S))
    window = campaign_window(start="09:00", end="20:00", holiday_country="US")
    common: dict[str, Any] = {"caller_id": "+12025550100", "safe_harbour_message": "sh.wav"}
    return {
        "us": CampaignRules(1, RuleSetName.US, window, lead_caps=caps, **common),
        "uk": CampaignRules(2, RuleSetName.UK, dial_mode=DialMode.PREDICTIVE, **common),
        "ru": CampaignRules(3, RuleSetName.RU, lead_caps=caps, **common),
        "eu": CampaignRules(4, RuleSetName.EU, dial_mode=DialMode.PREVIEW, **common),
    }


def make_leads(count: int, dnc: np.ndarray, rng: random.Random) -> list[Lead]:
    """A mix: 60 % US, 15 % UK, 15 % RU (multi-zone), 10 % FR/DE; 5 % on the DNC list."""
    rules = campaigns()
    leads: list[Lead] = []
    for i in range(count):
        pick = rng.random()
        history = Attempts(
            lead=tuple(
                BASE_NOW.timestamp() - rng.randint(1, 6) * 7200.0 for _ in range(rng.randint(0, 3))
            )
        )
        if pick < 0.60:
            zone, state = rng.choice(US_ZONES)
            on_dnc = rng.random() < DNC_SHARE
            national = rng.randint(2_002_000_000, 9_899_999_999)
            if on_dnc:
                national = int(dnc[rng.randrange(dnc.size)])
            us = rules["us"]
            leads.append(
                Lead(f"+1{national}", "US", us, Purpose.MARKETING, state, (zone,), history)
            )
        elif pick < 0.75:
            phone = f"+4477{rng.randint(10_000_000, 99_999_999)}"
            uk = rules["uk"]
            leads.append(Lead(phone, "GB", uk, Purpose.SURVEY, None, ("Europe/London",), history))
        elif pick < 0.90:
            zones = tuple(RU_ZONES[: rng.randint(1, len(RU_ZONES))])
            phone = f"+79{rng.randint(100_000_000, 999_999_999)}"
            leads.append(Lead(phone, "RU", rules["ru"], Purpose.COLLECTION, None, zones, history))
        else:
            country, zone = rng.choice((("FR", "Europe/Paris"), ("DE", "Europe/Berlin")))
            phone = f"+33{rng.randint(600_000_000, 799_999_999)}"
            leads.append(Lead(phone, country, rules["eu"], Purpose.SURVEY, None, (zone,), history))
        del i
    return leads


def decide_all(leads: list[Lead], index: DncIndex, instants: list[datetime]) -> dict[str, int]:
    """The measured core path: DNC lookup → facts → verdict, for every lead."""
    allowed = refused_dnc = dnc_leads = 0
    n_instants = len(instants)
    for i, lead in enumerate(leads):
        hits = index.lookup(lead.phone, tenant="default", campaign=None)
        facts = ContactFacts(
            lead.phone,
            lead.country,
            lead.campaign,
            region=lead.region,
            zone_candidates=lead.zones,
            dnc_hits=hits,
            attempts=lead.attempts,
            registry_as_of=AS_OF,
        )
        verdict = evaluate(facts, Channel.CALL, lead.purpose, instants[i % n_instants])
        allowed += verdict.allowed
        if hits:
            dnc_leads += 1
            refused_dnc += not verdict.allowed
    return {"allowed": allowed, "dnc_leads": dnc_leads, "dnc_refused": refused_dnc}


def floor_rate(leads: list[Lead], index: DncIndex, instant: datetime) -> float:
    """The bare work per lead (zone conversion of now + one DNC probe), leads/s."""
    digits = next(iter(index.sets.values())).digits
    tzs = [zone_info(lead.zones[0]) for lead in leads]
    started = time.perf_counter()
    for lead, tz in zip(leads, tzs, strict=True):
        instant.astimezone(tz)
        digits.searchsorted(e164_key(lead.phone) or 0)
    return len(leads) / (time.perf_counter() - started)


def scratch_dsn(settings: Settings, database: str) -> str:
    """A DSN for another database on the configured (or embedded) server."""
    if settings.database_url:
        parts = urlsplit(settings.database_url)
        return urlunsplit(parts._replace(path=f"/{database}"))
    embedded = EmbeddedPostgres(
        settings.pg_dir, settings.data_dir / "run", settings.storage.embedded_pg_system_user
    )
    return embedded.dsn(database)


async def db_import(settings: Settings, path: Path, requested: int) -> dict[str, Any]:
    """Import the registry file into a scratch database end to end; time it and the read-back."""
    async with open_storage(settings, with_redis=False) as storage:
        name = f"bench_compliance_{uuid.uuid4().hex[:10]}"
        await storage.pool.execute(f'CREATE DATABASE "{name}"')
        try:
            pool = await create_pool(scratch_dsn(settings, name), 1, 2)
            try:
                async with pool.acquire() as conn:
                    await migrations.migrate(conn)
                return await _timed_db_import(pool, path, requested)
            finally:
                await pool.close()
        finally:
            await storage.pool.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


async def _timed_db_import(pool: Any, path: Path, requested: int) -> dict[str, Any]:
    started = time.perf_counter()
    report = await DncService(pool, None).import_file(
        path, scope=DncScope.GLOBAL, channel=DncChannel.ALL, as_of=AS_OF, country_code=1
    )
    import_s = time.perf_counter() - started
    table = bulk_store.partition_name(report["import_id"])
    size = await pool.fetchval("SELECT pg_total_relation_size($1::regclass)", table)
    started = time.perf_counter()
    async with pool.acquire() as conn:
        digits = await bulk_store.load_numbers(conn, report["import_id"])
    load_s = time.perf_counter() - started
    scaled = import_s * 10_000_000 / max(requested, 1)
    return {
        "db_imported": report["imported"],
        "db_import_s": round(import_s, 3),
        "db_parse_s": report["parse_s"],
        "db_import_s_per_10m": round(scaled, 2),
        "db_table_mb": round(int(size) / 1e6, 1),
        "db_cache_load_s": round(load_s, 3),
        "db_cache_numbers": int(digits.size),
        "meets_db_import_target": scaled <= TARGET_IMPORT_S_PER_10M,
    }


def run_bench(args: argparse.Namespace, settings: Settings) -> int:
    rng = np.random.default_rng(args.seed)
    report: dict[str, Any] = {"bench": "compliance", "leads": args.leads, "dnc_numbers": args.dnc}
    with tempfile.TemporaryDirectory(prefix="dialer-bench-compliance-") as tmp:
        path = Path(tmp) / "registry.txt"
        info(f"writing a registry file of {args.dnc:,} numbers")
        numbers = write_registry(path, args.dnc, rng)
        report["dnc_file_mb"] = round(path.stat().st_size / 1e6, 1)
        rss_before = psutil.Process().memory_info().rss
        started = time.perf_counter()
        loaded = load_registry(path, country_code=1)
        index = DncIndex()
        index.replace_set(
            loaded.to_set(
                DncScope.GLOBAL, DncChannel.ALL, as_of=AS_OF, registry=True, source="bench registry"
            )
        )
        import_s = time.perf_counter() - started
        if args.db:
            info(f"importing {args.dnc:,} numbers into PostgreSQL (scratch database)")
            report |= run_async(lambda: db_import(settings, path, args.dnc))
            info(f"PostgreSQL import took {report['db_import_s']:.2f} s")
    report |= _import_report(loaded.imported, loaded.fast_path, import_s, rss_before, args.dnc)
    info(f"imported {loaded.imported:,} numbers in {import_s:.2f} s")
    info(f"generating {args.leads:,} leads")
    leads = make_leads(args.leads, numbers, random.Random(args.seed))
    del numbers
    instants = [BASE_NOW + timedelta(hours=h) for h in (0, 3, 6, 9, 14, 20)]
    decide_all(leads[:WARM_UP_LEADS], index, instants)  # fills the per-day interval caches
    gc.collect()
    gc.freeze()
    info("deciding")
    wall_started = time.perf_counter()
    outcome, rates, total_s = _timed_slices(leads, index, instants)
    wall_s = time.perf_counter() - wall_started
    gc.unfreeze()
    rate = statistics.median(rates)
    floor = floor_rate(leads[: min(len(leads), 200_000)], index, BASE_NOW)
    report |= {
        "verdicts_per_s": round(rate),
        "verdicts_per_s_slices": [round(r) for r in rates],
        "verdicts_per_s_overall": round(len(leads) / total_s),
        "verdicts_per_wall_s": round(len(leads) / wall_s),
        "verdict_us": round(1e6 / rate, 2),
        "floor_per_s": round(floor),
        "ratio_to_floor": round(rate / floor, 3),
        **outcome,
        "target_verdicts_per_s": TARGET_VERDICTS_PER_S,
        "meets_verdict_target": rate >= TARGET_VERDICTS_PER_S,
        "never_allowed_dnc": outcome["dnc_refused"] == outcome["dnc_leads"],
    }
    emit(report, as_json=args.json)
    return 0 if report["never_allowed_dnc"] and report.get("db_cache_numbers", 1) else 1


def _timed_slices(
    leads: list[Lead], index: DncIndex, instants: list[datetime]
) -> tuple[dict[str, int], list[float], float]:
    """Decide the leads in slices; rates are per CPU second of this process (per core)."""
    outcome = {"allowed": 0, "dnc_leads": 0, "dnc_refused": 0}
    rates: list[float] = []
    total_s = 0.0
    for part in (leads[i::SLICES] for i in range(SLICES)):
        started = time.process_time()
        counts = decide_all(part, index, instants)
        elapsed = time.process_time() - started
        total_s += elapsed
        rates.append(len(part) / elapsed if elapsed else 0.0)
        for key, value in counts.items():
            outcome[key] += value
    return outcome, rates, total_s


def _import_report(
    imported: int, fast: bool, import_s: float, rss_before: int, requested: int
) -> dict[str, Any]:
    scaled = import_s * 10_000_000 / max(requested, 1)
    return {
        "dnc_imported": imported,
        "dnc_fast_path": fast,
        "dnc_import_s": round(import_s, 3),
        "dnc_import_s_per_10m": round(scaled, 2),
        "dnc_numbers_per_s": round(imported / import_s) if import_s else None,
        "dnc_index_mb": round(imported * 8 / 1e6, 1),
        "rss_growth_mb": round((psutil.Process().memory_info().rss - rss_before) / 1e6, 1),
        "target_import_s_per_10m": TARGET_IMPORT_S_PER_10M,
        "meets_import_target": scaled <= TARGET_IMPORT_S_PER_10M,
    }
