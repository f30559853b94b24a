"""`dialer bench NAME`: the benchmark commands of ../shared/BENCHMARKS.md, one module each."""

from __future__ import annotations

import argparse

from cli import bench_compliance, bench_import, bench_pacing, bench_sip, bench_sms

BENCHES = [
    bench_import.register,
    bench_sms.register,
    bench_sip.register,
    bench_compliance.register,
    bench_pacing.register,
]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("bench", help="run a benchmark against its baseline")
    benches = parser.add_subparsers(dest="bench", required=True, metavar="BENCH")
    for register_bench in BENCHES:
        register_bench(benches)
