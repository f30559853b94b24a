"""`dialer bench sip`: our trunk calling into a sipp carrier, beside sipp-as-UAC on the same tape.

BENCHMARKS.md §2. One sipp UAS plays the carrier for the whole run; the caller's `X-Bench` header
(drawn up front from the seed: answer, busy, noanswer) picks its behaviour, so the reference caller
(sipp UAC) and our trunk face the same tape. Report: attempts/s sustained, failed transactions,
peak concurrent dialogs, CPU seconds per 1,000 calls, INVITE→final latency (p50/p99) and the part
of it added by us (ours minus sipp's).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import random
import resource
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import psutil

from cli.context import CommandError, run_async
from cli.output import emit, info
from compliance.permit import mint_operator_test_permit
from config import Settings
from config.vocabulary import CallOutcome, Channel
from dialer.sip.events import CallAnswered, CallEnded
from dialer.sip.trunk import Trunk, TrunkCall, TrunkConfig

EXPECTED = {
    "answer": CallOutcome.ANSWERED,
    "busy": CallOutcome.BUSY,
    "noanswer": CallOutcome.NO_ANSWER,
}
TARGET_CPS = 500.0
TARGET_DIALOGS = 5000


def register(benches: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = benches.add_parser("sip", help="SIP origination rate against sipp (BENCHMARKS.md §2)")
    parser.add_argument(
        "--duration-s", type=float, default=60.0, help="seconds of dialing per caller"
    )
    parser.add_argument("--cps", type=float, default=TARGET_CPS, help="call attempts per second")
    parser.add_argument("--hold-s", type=float, default=14.0, help="talk time of answered calls")
    parser.add_argument(
        "--ring-timeout-s", type=float, default=1.0, help="no-answer calls: CANCEL after"
    )
    parser.add_argument("--busy", type=float, default=0.1, help="share of busy calls")
    parser.add_argument("--no-answer", type=float, default=0.1, help="share of no-answer calls")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-gc-tune",
        dest="gc_tune",
        action="store_false",
        help="keep CPython's default GC thresholds (full collections stall the loop for 0.5-1 s)",
    )
    parser.add_argument(
        "--no-reference", action="store_true", help="skip the sipp-as-UAC reference"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny size: 3 s at 50 CPS, 1 s holds")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=run_bench)


def run_bench(args: argparse.Namespace, settings: Settings) -> int:
    if args.smoke:
        args.duration_s, args.cps, args.hold_s = 3.0, 50.0, 1.0
    sipp = shutil.which("sipp")
    if sipp is None:
        raise CommandError("sipp not found: install it with `apt-get install -y sip-tester`")
    tape = make_tape(int(args.duration_s * args.cps), args.busy, args.no_answer, args.seed)
    report = run_async(lambda: bench(sipp, tape, args))
    emit(report, as_json=args.json)
    return 0


def make_tape(calls: int, busy: float, no_answer: float, seed: int) -> list[str]:
    """What each call's callee does, drawn once so both callers face the same tape."""
    rng = random.Random(seed)
    weights = [busy, no_answer, max(0.0, 1.0 - busy - no_answer)]
    return rng.choices(["busy", "noanswer", "answer"], weights=weights, k=calls)


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scenario_text(name: str) -> str:
    return resources.files("dialer.sip").joinpath("scenarios", name).read_text()


async def bench(sipp: str, tape: list[str], args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-sip-") as tmp:
        work = Path(tmp)
        (work / "uas.xml").write_text(scenario_text("bench_uas.xml"))
        port = free_port()
        limit_s = 2 * (args.duration_s + args.hold_s) + 120
        uas = await asyncio.create_subprocess_exec(
            sipp, "-sf", "uas.xml", "-i", "127.0.0.1", "-ci", "127.0.0.1", "-p", str(port),
            "-cp", str(free_port()), "-nostdin", "-timeout", f"{int(limit_s)}s",
            "-buff_size", str(8 << 20), "-trace_stat", "-fd", "1", "-stf", "uas.csv",
            "-trace_err", "-error_file", "uas_errors.log",
            cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            await asyncio.sleep(0.5)
            reference = None
            if not args.no_reference:
                info(f"reference: sipp UAC, {len(tape)} calls at {args.cps:g}/s")
                reference = await reference_phase(sipp, port, tape, args, work)
            info(f"ours: trunk, {len(tape)} calls at {args.cps:g}/s")
            ours = await our_phase(port, tape, args)
            await asyncio.sleep(1.5)
            carrier = uas_failures(work / "uas.csv")
            ours["carrier_errors"] = error_sample(work / "uas_errors.log")
        finally:
            with contextlib.suppress(ProcessLookupError):
                uas.terminate()
            await uas.wait()
    return summarise(args, tape, ours, reference, carrier)


async def reference_phase(
    sipp: str, port: int, tape: list[str], args: argparse.Namespace, work: Path
) -> dict[str, Any]:
    scenario = scenario_text("bench_uac.xml")
    scenario = scenario.replace("RING_TIMEOUT_MS", str(int(args.ring_timeout_s * 1000)))
    (work / "uac.xml").write_text(scenario)
    rows = ["SEQUENTIAL"] + [f"{kind};+1555{i:07d};" for i, kind in enumerate(tape)]
    (work / "tape.csv").write_text("\n".join(rows) + "\n")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    limit_s = args.duration_s + args.hold_s + 60
    uac = await asyncio.create_subprocess_exec(
        sipp, "-sf", "uac.xml", "-inf", "tape.csv", "-i", "127.0.0.1", "-ci", "127.0.0.1",
        "-p", str(free_port()), "-cp", str(free_port()), f"127.0.0.1:{port}",
        "-r", str(args.cps), "-m", str(len(tape)), "-l", str(len(tape)),
        "-d", str(int(args.hold_s * 1000)), "-nostdin", "-timeout", f"{int(limit_s)}s",
        "-buff_size", str(8 << 20), "-trace_rtt", "-rtt_freq", "1",
        "-trace_stat", "-stf", "uac.csv",
        cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    code = await uac.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    stats = last_stat_row(work / "uac.csv")
    rtts = sorted(read_rtts(work))
    return {
        "exit_code": code,
        "wall_s": time.monotonic() - started,
        "cpu_s": cpu_s,
        "successful_calls": int(stats.get("SuccessfulCall(C)", 0)),
        "failed_calls": int(stats.get("FailedCall(C)", 0)),
        "retransmissions": int(stats.get("Retransmissions(C)", 0)),
        "peak_calls": int(stats.get("CurrentCall(P)", 0) or 0),
        "latency_ms": percentiles(rtts),
    }


def last_stat_row(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    if len(lines) < 2:
        return {}
    return dict(zip(lines[0].split(";"), lines[-1].split(";"), strict=False))


def read_rtts(work: Path) -> list[float]:
    values: list[float] = []
    for path in work.glob("uac_*_rtt.csv"):
        for line in path.read_text(errors="replace").splitlines()[1:]:
            parts = line.split(";")
            with contextlib.suppress(IndexError, ValueError):
                values.append(float(parts[1]))
    return values


def error_sample(path: Path, events: int = 3) -> list[str]:
    """The first few events of a sipp error log, one line each, for the report."""
    if not path.exists():
        return []
    text = path.read_text(errors="replace")
    chunks = [c.strip() for c in text.split("\n\n") if "call" in c.lower()]
    return [" ".join(c.split())[:300] for c in chunks[:events]]


def uas_failures(path: Path) -> int:
    return int(last_stat_row(path).get("FailedCall(C)", 0) or 0)


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None}
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return {"p50": round(statistics.median(ordered), 3), "p99": round(p99, 3)}


class GcWatch:
    """Longest and total pause of the cyclic garbage collector while dialing (wall and CPU)."""

    def __init__(self) -> None:
        self.max_ms = 0.0
        self.max_cpu_ms = 0.0
        self.max_generation = -1
        self.total_ms = 0.0
        self._started = (0.0, 0.0)

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = (time.perf_counter(), time.process_time())
            return
        pause_ms = (time.perf_counter() - self._started[0]) * 1000
        self.total_ms += pause_ms
        if pause_ms > self.max_ms:
            self.max_ms = pause_ms
            self.max_cpu_ms = (time.process_time() - self._started[1]) * 1000
            self.max_generation = info.get("generation", -1)

    def report(self) -> dict[str, float]:
        return {
            "max": round(self.max_ms, 1),
            "max_cpu": round(self.max_cpu_ms, 1),
            "max_generation": self.max_generation,
            "total": round(self.total_ms, 1),
        }


class Tally:
    """What our phase observed, updated from call callbacks."""

    def __init__(self) -> None:
        self.outcomes: Counter[str] = Counter()
        self.mismatches = 0
        self.latencies_ms: list[float] = []
        self.dialogs = 0
        self.peak_dialogs = 0
        self.open = 0
        self.done = asyncio.Event()

    def watch(self, call: TrunkCall, kind: str, sent_at: float, hold_s: float) -> None:
        self.open += 1

        def answered(future: asyncio.Future[CallAnswered]) -> None:
            if future.cancelled():
                return
            self.latencies_ms.append((future.result().at - sent_at) * 1000)
            self.dialogs += 1
            self.peak_dialogs = max(self.peak_dialogs, self.dialogs)
            asyncio.get_running_loop().call_later(hold_s, call.hangup)

        def ended(future: asyncio.Future[CallEnded]) -> None:
            event = future.result()
            self.outcomes[event.outcome.value] += 1
            self.mismatches += event.outcome != EXPECTED[kind]
            if event.outcome == CallOutcome.ANSWERED:
                self.dialogs -= 1
            elif kind == "busy":
                self.latencies_ms.append((event.at - sent_at) * 1000)
            self.open -= 1
            if self.open == 0:
                self.done.set()

        call.answered.add_done_callback(answered)
        call.ended.add_done_callback(ended)


@contextlib.contextmanager
def gc_policy(tuned: bool) -> Iterator[GcWatch]:
    """Measure GC pauses; when tuned, young collections only (the core frees calls by refcount)."""
    thresholds = gc.get_threshold()
    if tuned:
        gc.collect()
        gc.freeze()
        gc.set_threshold(2_000, 10, 1_000_000)
    watch = GcWatch()
    gc.callbacks.append(watch)
    try:
        yield watch
    finally:
        gc.callbacks.remove(watch)
        gc.set_threshold(*thresholds)
        gc.unfreeze()


async def dial_tape(trunk: Trunk, tape: list[str], args: argparse.Namespace, tally: Tally) -> float:
    """Originate every call of the tape at the trunk's pace; returns the seconds it took."""
    loop = asyncio.get_running_loop()
    now = datetime.now(UTC)
    started = loop.time()
    for i, kind in enumerate(tape):
        permit = mint_operator_test_permit(
            phone_e164=f"+1555{i:07d}", channel=Channel.CALL, operator="bench", now=now
        )
        call = await trunk.originate(
            permit, ring_timeout_s=args.ring_timeout_s, headers=(("x-bench", kind),)
        )
        tally.watch(call, kind, loop.time(), args.hold_s)
    return loop.time() - started


async def our_phase(port: int, tape: list[str], args: argparse.Namespace) -> dict[str, Any]:
    channels = int(args.cps * (args.hold_s + args.ring_timeout_s + 10)) + 100
    config = TrunkConfig(
        "127.0.0.1", port, max_cps=args.cps, max_channels=channels, rcvbuf_bytes=16 << 20
    )
    tally = Tally()
    with gc_policy(args.gc_tune) as watch:
        async with Trunk(config) as trunk:
            cpu0 = time.process_time()
            placed_s = await dial_tape(trunk, tape, args, tally)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(args.hold_s + args.ring_timeout_s + 70):
                    await tally.done.wait()
            cpu_s = time.process_time() - cpu0
            stats, rcvbuf = trunk.stats, trunk.rcvbuf_bytes
    rss_mb = psutil.Process().memory_info().rss / 1e6
    garbage = gc.collect()
    return {
        "placed": len(tape),
        "placing_s": placed_s,
        "cpu_s": cpu_s,
        "unfinished": tally.open,
        "outcomes": dict(tally.outcomes),
        "outcome_mismatches": tally.mismatches,
        "transaction_timeouts": stats.get("transaction_timeouts", 0),
        "timeouts_by_method": {k[9:]: v for k, v in stats.items() if k.startswith("timeouts_")},
        "retransmissions": stats.get("retransmissions", 0),
        "parse_errors": stats.get("parse_errors", 0),
        "peak_dialogs": tally.peak_dialogs,
        "rcvbuf_bytes": rcvbuf,
        "gc_pause_ms": watch.report(),
        "gc_tuned": args.gc_tune,
        "rss_mb_after": round(rss_mb, 1),
        "cyclic_garbage_objects": garbage,
        "latency_ms": percentiles(tally.latencies_ms),
    }


def summarise(
    args: argparse.Namespace,
    tape: list[str],
    ours: dict[str, Any],
    reference: dict[str, Any] | None,
    carrier_failed: int,
) -> dict[str, Any]:
    calls = len(tape)
    rate = calls / ours["placing_s"] if ours["placing_s"] > 0 else 0.0
    failed = ours["transaction_timeouts"] + ours["outcome_mismatches"] + ours["unfinished"]
    report: dict[str, Any] = {
        "calls": calls,
        "target_cps": args.cps,
        "duration_s": args.duration_s,
        "tape": dict(Counter(tape)),
        "attempts_per_s": round(rate, 1),
        "failed_transactions": failed,
        "carrier_failed_calls": carrier_failed,
        "peak_concurrent_dialogs": ours["peak_dialogs"],
        "cpu_s_per_1000_calls": round(1000 * ours["cpu_s"] / calls, 3) if calls else None,
        "latency_ms": ours["latency_ms"],
        "ours": ours,
        "reference": reference,
    }
    if reference is not None:
        ref = reference["latency_ms"]
        mine = ours["latency_ms"]
        report["latency_added_ms"] = {
            k: round(mine[k] - ref[k], 3) if mine[k] is not None and ref[k] is not None else None
            for k in ("p50", "p99")
        }
        report["reference_cpu_s_per_1000_calls"] = round(1000 * reference["cpu_s"] / calls, 3)
    report["meets_target"] = (
        rate >= TARGET_CPS * 0.99
        and failed == 0
        and ours["peak_dialogs"] >= TARGET_DIALOGS
        and args.duration_s >= 60
    )
    return report
