"""`dialer sim ...`: simulators of the outside world; one function per simulator registers it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ssl
from collections.abc import Callable
from typing import Any, TypeAlias

from cli.context import CommandError, run_async
from cli.output import emit, info
from config import Settings
from dialer.carrier_sim import CarrierProfile, CarrierSimulator
from dialer.smpp.simulator import SmscServer, stats_dict
from dialer.smpp.smsc import IdBase, ReceiptForm, SmscConfig

SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def register_carrier(sims: SubParsers) -> None:
    parser = sims.add_parser("carrier", help="a SIP carrier (UAS) answering by configured shares")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5070)
    parser.add_argument("--transport", choices=("udp", "tcp"), default="udp")
    defaults = CarrierProfile()
    for name in ("human", "machine", "busy", "no_answer", "failed"):
        flag = "--" + name.replace("_", "-")
        parser.add_argument(
            flag, type=float, default=getattr(defaults, name), help=f"share of {name}"
        )
    for name in ("post_dial_s", "ring_mean_s", "ring_cv", "human_hold_mean_s", "human_hold_cv"):
        parser.add_argument(
            "--" + name.replace("_", "-"), type=float, default=getattr(defaults, name)
        )
    for name in ("machine_hold_mean_s", "machine_hold_cv", "no_answer_max_ring_s"):
        parser.add_argument(
            "--" + name.replace("_", "-"), type=float, default=getattr(defaults, name)
        )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--duration-s", type=float, default=0.0, help="stop after this long (0: run until ^C)"
    )
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=run_carrier)


def run_carrier(args: argparse.Namespace, settings: Settings) -> int:
    fields = CarrierProfile.__dataclass_fields__
    profile = CarrierProfile(**{k: getattr(args, k) for k in fields if hasattr(args, k)})
    problems = profile.validate()
    if problems:
        raise CommandError("carrier profile: " + "; ".join(problems), exit_code=2)

    report: dict[str, object] = {}

    async def main() -> None:
        sim = CarrierSimulator(
            profile, host=args.host, port=args.port, transport=args.transport, seed=args.seed
        )
        try:
            await sim.start()
        except OSError as exc:
            raise CommandError(f"cannot listen on {args.host}:{args.port}: {exc}") from exc
        info(f"carrier simulator listening on {args.transport}:{args.host}:{sim.port}")
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(args.duration_s or None):
                    await asyncio.Event().wait()
        finally:
            report.update(host=args.host, port=sim.port, transport=args.transport, **sim.report())
            await sim.close()

    with contextlib.suppress(KeyboardInterrupt):
        run_async(main)
    emit(report, as_json=args.json)
    return 0


def register_smsc(sims: SubParsers) -> None:
    parser = sims.add_parser("smsc", help="an SMPP 3.4 SMSC with receipts and injectable faults")
    add = parser.add_argument
    add("--host", default="127.0.0.1")
    add("--port", type=int, default=2775, help="TCP port (0: a free one)")
    add("--system-id", default="dialer")
    add("--password", default="secret")
    add("--response-delay-ms", type=float, default=0.0, help="max delay; responses reorder")
    add("--throttle-rate", type=float, default=0.0, help="share answered ESME_RTHROTTLED")
    add("--queue-full-rate", type=float, default=0.0, help="share answered ESME_RMSGQFUL")
    add("--receipt-delay-ms", type=float, default=50.0)
    add("--undeliverable-rate", type=float, default=0.0)
    add("--expired-rate", type=float, default=0.0)
    add("--early-receipt-rate", type=float, default=0.0, help="receipt before submit_sm_resp")
    add("--receipt-form", choices=[f.value for f in ReceiptForm], default="text")
    add("--message-id-base", choices=[b.value for b in IdBase], default="hex")
    add("--receipt-id-base", choices=[b.value for b in IdBase], default=None)
    add("--drop-every", type=int, default=0, help="drop the connection every N submits")
    add("--malformed-rate", type=float, default=0.0, help="share of submits followed by junk")
    add("--auto-reply", default="", help="text every handset replies (e.g. STOP)")
    add("--enquire-link-interval-s", type=float, default=0.0)
    add("--seed", type=int, default=1)
    add("--tls-cert", default=None, help="PEM certificate: serve SMPP over TLS")
    add("--tls-key", default=None)
    add("--duration-s", type=float, default=0.0, help="stop after this long (0: until Ctrl-C)")
    add("--json", action="store_true", help="print one JSON object when stopped")
    parser.set_defaults(handler=run_smsc)


def _smsc_config(args: argparse.Namespace) -> SmscConfig:
    return SmscConfig(
        system_id=args.system_id,
        password=args.password,
        max_response_delay_ms=args.response_delay_ms,
        throttle_rate=args.throttle_rate,
        queue_full_rate=args.queue_full_rate,
        receipt_delay_ms=args.receipt_delay_ms,
        undeliverable_rate=args.undeliverable_rate,
        expired_rate=args.expired_rate,
        early_receipt_rate=args.early_receipt_rate,
        receipt_form=ReceiptForm(args.receipt_form),
        message_id_base=IdBase(args.message_id_base),
        receipt_id_base=IdBase(args.receipt_id_base) if args.receipt_id_base else None,
        drop_every=args.drop_every,
        malformed_rate=args.malformed_rate,
        auto_reply=args.auto_reply,
        enquire_link_interval_s=args.enquire_link_interval_s,
        seed=args.seed,
    )


def run_smsc(args: argparse.Namespace, settings: Settings) -> int:
    context = None
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
    report: dict[str, Any] = {}

    async def main() -> None:
        server = SmscServer(_smsc_config(args), args.host, args.port, context)
        try:
            await server.start()
        except OSError as exc:
            raise CommandError(f"cannot listen on {args.host}:{args.port}: {exc}") from exc
        info(f"smsc simulator listening on {args.host}:{server.port} (system_id {args.system_id})")
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(args.duration_s or None):
                    await asyncio.Event().wait()
        finally:
            report.update({"host": args.host, "port": server.port, **stats_dict(server)})
            await server.close()

    with contextlib.suppress(KeyboardInterrupt):
        run_async(main)
    emit(report, as_json=args.json)
    return 0


SIMULATORS: list[Callable[[SubParsers], None]] = [register_carrier, register_smsc]


def register(sub: SubParsers) -> None:
    parser = sub.add_parser("sim", help="run a simulator of the outside world")
    sims = parser.add_subparsers(dest="simulator", required=True, metavar="SIMULATOR")
    for register_sim in SIMULATORS:
        register_sim(sims)
