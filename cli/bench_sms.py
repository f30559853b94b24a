"""`dialer bench sms`: SMS end to end against the SMSC simulator in a child process (§3).

Persistence is the PostgreSQL outbox (`PgSmsStore`, in a freshly migrated scratch database that is
dropped afterwards) by default; `--memory-baseline` also runs the same load over `MemorySmsStore`
in the same run and reports the ratio. Lost and duplicated
messages are counted from the database and the simulator's own records, not client counters.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from cli.context import CommandError, run_async
from cli.output import emit, info
from cli.progress import Progress
from compliance.permit import mint_operator_test_permit
from config import Settings
from config.vocabulary import Channel, SmsEncoding
from dialer.smpp import bench_store
from dialer.smpp.client import ClientConfig, SmppClient
from dialer.smpp.persistence import MemorySmsStore
from dialer.smpp.receipts import FINAL_STATUSES, aggregate
from dialer.smpp.runtime import sms_runtime
from dialer.smpp.sender import MemoryInboundSink, SenderConfig, SendRefused, SendRequest, SmsSender
from dialer.smpp.session import SessionConfig
from dialer.smpp.simulator import serve_in_process
from dialer.smpp.smsc import SmscConfig
from storage.database import scratch_database
from storage.runtime import open_storage

TARGET_MESSAGES_PER_S = 1500.0
LONG_TEXT = (
    "Dear customer, your order has been shipped and will arrive within three working days. "
    "Track it online with the number below; reply STOP to opt out of delivery notices. "
)
IN_MEMORY = "in-memory (MemorySmsStore): the baseline, not the target's condition"
SIM_KEYS = ("submits", "accepted", "duplicates", "receipts_sent", "throttled")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("sms", help="SMS messages/s and receipts/s through one SMPP bind")
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--window", type=int, default=50)
    parser.add_argument("--batch", type=int, default=250, help="messages per outbox write")
    parser.add_argument("--receipt-delay-ms", type=float, default=20.0)
    parser.add_argument("--timeout-s", type=float, default=600.0, help="give up after this long")
    parser.add_argument(
        "--store",
        choices=("pg", "memory"),
        default="pg",
        help="persistence measured: the PostgreSQL outbox (default) or the in-memory store",
    )
    parser.add_argument(
        "--memory-baseline",
        action="store_true",
        help="also run over the in-memory store in the same run (the baseline)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run_bench)


def message_mix(count: int) -> Iterator[tuple[str, str]]:
    """(E.164, text): 70 % GSM-7 single part, 20 % UCS-2 Cyrillic, 10 % long multi-part."""
    for i in range(count):
        phone = f"+7900{i:07d}"
        kind = i % 10
        if kind < 7:
            yield phone, f"Your code is {i:06d}. Valid for 10 minutes; do not share it [ref {i}]."
        elif kind < 9:
            yield phone, f"Ваш заказ {i} доставлен. Спасибо!"
        else:
            yield phone, f"#{i} " + LONG_TEXT * 2


async def _produce(sender: SmsSender, args: argparse.Namespace, prefix: str) -> int:
    progress = Progress("sms bench", "messages")
    sent = 0
    batch: list[SendRequest] = []
    try:
        for i, (phone, text) in enumerate(message_mix(args.messages)):
            permit = mint_operator_test_permit(
                phone_e164=phone, channel=Channel.SMS, operator="bench-sms", now=datetime.now(UTC)
            )
            batch.append(SendRequest(permit, text, f"{prefix}-{i}"))
            if len(batch) >= args.batch or i == args.messages - 1:
                for result in await sender.send_many(batch):
                    if isinstance(result, SendRefused):
                        raise CommandError(f"bench message refused: {result.reason}")
                sent += len(batch)
                batch = []
                progress.update(sent)
    finally:
        progress.close()
    return sent


async def _timed(args: argparse.Namespace, sender: SmsSender, client: SmppClient,
                 prefix: str) -> dict[str, float]:  # fmt: skip
    try:
        async with asyncio.timeout(args.timeout_s):
            await client.bound.wait()
            started = time.perf_counter()
            await _produce(sender, args, prefix)
            await client.drain()
            submitted_s = time.perf_counter() - started
            await sender.wait_all_final()
            elapsed_s = time.perf_counter() - started
    except TimeoutError as exc:
        raise CommandError(f"benchmark did not finish in {args.timeout_s} s") from exc
    return {"elapsed_s": elapsed_s, "submit_phase_s": submitted_s}


def _client_config(args: argparse.Namespace, port: int) -> ClientConfig:
    return ClientConfig("127.0.0.1", port, SessionConfig("bench", "bench", window=args.window))


async def _run_memory(args: argparse.Namespace, port: int) -> dict[str, Any]:
    store = MemorySmsStore()
    sender = SmsSender(store, MemoryInboundSink(), SenderConfig(source_addr="DIALER"))
    client = SmppClient(_client_config(args, port), sender)
    sender.client = client
    runner = asyncio.create_task(client.run())
    try:
        timing = await _timed(args, sender, client, "mem")
    finally:
        await client.close()
        await runner
    per_message = store.message_statuses()
    final = sum(1 for s in per_message.values() if aggregate(s) in FINAL_STATUSES)
    rewritten = sum(1 for r in store.parts.values() if r.submitted > 1)
    return {**timing, "receipts": sender.receipts_applied, "final": final, "database": None,
            "parts": len(store.parts), "parts_written_twice": rewritten}  # fmt: skip


async def _run_pg(args: argparse.Namespace, port: int, settings: Settings) -> dict[str, Any]:
    prefix = f"bench-{uuid.uuid4().hex[:10]}"
    async with (
        open_storage(settings, with_redis=False) as storage,
        scratch_database(storage.pool, storage.database_dsn, "bench_sms") as pool,
    ):
        tenant = await bench_store.default_tenant(pool, settings.default_tenant)
        config = SenderConfig(source_addr="DIALER")
        async with sms_runtime(pool, tenant, _client_config(args, port), config,
                               node=prefix) as rt:  # fmt: skip
            timing = await _timed(args, rt.sender, rt.client, prefix)
            receipts = rt.sender.receipts_applied
        counts = await bench_store.verify(pool, prefix)
    label = f"scratch database on {storage.database_label}"
    return {**timing, **counts, "receipts": receipts, "database": label}


def _with_simulator(
    args: argparse.Namespace, run: Callable[[int], Awaitable[dict[str, Any]]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run `run(port)` against a fresh simulator in a child process; returns (result, sim)."""
    config = SmscConfig(system_id="bench", password="bench", receipt_delay_ms=args.receipt_delay_ms)
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    simulator = context.Process(target=serve_in_process, args=(config, child), daemon=True)
    simulator.start()
    try:
        if not parent.poll(30):
            raise CommandError("the SMSC simulator did not start")
        _, port = parent.recv()
        result = run_async(lambda: run(port))
        parent.send("stop")
        sim_stats: dict[str, Any] = parent.recv()[1] if parent.poll(30) else {}
    finally:
        simulator.join(5)
        if simulator.is_alive():
            simulator.terminate()
    return result, sim_stats


def run_bench(args: argparse.Namespace, settings: Settings) -> int:
    store = "PostgreSQL outbox" if args.store == "pg" else "in-memory store"
    info(f"sms bench: {args.messages:,} messages, window {args.window}, {store}")
    if args.store == "pg":
        pg, pg_sim = _with_simulator(args, lambda port: _run_pg(args, port, settings))
    else:
        pg, pg_sim = _with_simulator(args, lambda port: _run_memory(args, port))
    baseline = None
    if args.memory_baseline and args.store == "pg":
        info("sms bench: the same load over the in-memory store (baseline)")
        baseline = _with_simulator(args, lambda port: _run_memory(args, port))
    report = _report(args, pg, pg_sim, baseline)
    emit(report, as_json=args.json)
    return 0 if report["lost"] == 0 and report["duplicated"] == 0 else 1


def _rates(args: argparse.Namespace, result: dict[str, Any]) -> dict[str, Any]:
    elapsed_s = result["elapsed_s"]
    return {
        "elapsed_s": round(elapsed_s, 3),
        "messages_per_s": round(args.messages / elapsed_s, 1),
        "submit_messages_per_s": round(args.messages / result["submit_phase_s"], 1),
        "receipts_per_s": round(result["receipts"] / elapsed_s, 1),
    }


def _report(
    args: argparse.Namespace,
    pg: dict[str, Any],
    sim: dict[str, Any],
    baseline: tuple[dict[str, Any], dict[str, Any]] | None,
) -> dict[str, Any]:
    rates = _rates(args, pg)
    lost = args.messages - pg["final"]
    duplicated = int(sim.get("duplicates", 0))
    report: dict[str, Any] = {
        "messages": args.messages,
        "parts": pg["parts"],
        "mix": {"gsm7_single": 0.7, "ucs2_cyrillic": 0.2, "long_multipart": 0.1},
        "encodings": [SmsEncoding.GSM7, SmsEncoding.UCS2],
        "window": args.window,
        "binds": 1,
        "receipts_on": True,
        "persistence": f"PostgreSQL outbox ({pg['database']})" if pg["database"] else IN_MEMORY,
        **rates,
        "receipts": pg["receipts"],
        "lost": lost,
        "duplicated": duplicated,
        "checked_in_database": {k: pg[k] for k in bench_store.VERIFIED} if pg["database"] else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "simulator_peak_rss_mb": round(float(sim.get("peak_rss_mb", 0.0)), 1),
        "simulator": {k: sim.get(k) for k in SIM_KEYS},
        "target_messages_per_s": TARGET_MESSAGES_PER_S,
        "meets_target": rates["messages_per_s"] >= TARGET_MESSAGES_PER_S
        and duplicated == 0
        and lost == 0
        and pg["database"] is not None,
    }
    if baseline is not None:
        mem, mem_sim = baseline
        mem_rates = _rates(args, mem)
        report["memory_baseline"] = {
            **mem_rates,
            "lost": args.messages - mem["final"],
            "duplicated": int(mem_sim.get("duplicates", 0)),
        }
        report["ratio_to_memory"] = round(rates["messages_per_s"] / mem_rates["messages_per_s"], 3)
    return report
