"""`dialer sim ...`: simulators of the outside world; one function per simulator registers it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Callable
from typing import TypeAlias

from cli.context import CommandError, run_async
from cli.output import emit, info
from config import Settings
from dialer.carrier_sim import CarrierProfile, CarrierSimulator

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


SIMULATORS: list[Callable[[SubParsers], None]] = [register_carrier]


def register(sub: SubParsers) -> None:
    parser = sub.add_parser("sim", help="run a simulator of the outside world")
    sims = parser.add_subparsers(dest="simulator", required=True, metavar="SIMULATOR")
    for register_sim in SIMULATORS:
        register_sim(sims)
