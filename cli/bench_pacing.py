"""`dialer bench pacing`: every pacing policy on the simulator's common tapes (BENCHMARKS.md §1)."""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cli.output import emit, info
from config import Settings
from pacing.evaluation import GRID, POLICIES, Cell, run_cell
from pacing.scenarios import SCENARIOS

ORDER = (*POLICIES, "best_static", "ceiling")
FRONTIER_STYLE = {"predictive": "-", "power": "--"}
TARGETS = {10: 0.78, 50: 0.86, 200: 0.88}
MEANS = (
    "talk_fraction",
    "busy_fraction",
    "wait_mean_s",
    "wait_p95_s",
    "connects_per_agent_hour",
    "dials_per_agent_hour",
    "abandon_rate",
    "worst_hour_abandon_rate",
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "pacing", help="pacing policies side by side on the call-centre simulator"
    )
    parser.add_argument("--agents", default="10,50,200", help="team sizes, comma-separated")
    parser.add_argument("--p-human", type=float, default=0.25, help="human answer share")
    parser.add_argument("--scenario", default="steady", help="steady, drift, amd (comma list)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--hours", type=float, default=8.0, help="shift length")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--ratio", type=float, default=2.0, help="the fixed-ratio (power) policy")
    parser.add_argument(
        "--frontier",
        default="",
        help="also trace talk fraction against abandon rate: predictive on campaigns capped at"
        " each of these rates (e.g. 0.03,0.04,0.05) and power at ratios 1.5 … 6 with no cap",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--plot", type=Path, default=None, help="write a PNG here")
    parser.set_defaults(handler=run)


def _cells(args: argparse.Namespace, caps: tuple[float, ...]) -> list[Cell]:
    scenarios = [s.strip() for s in args.scenario.split(",") if s.strip()]
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        raise SystemExit(f"dialer: unknown scenario {unknown[0]!r} (choose from {SCENARIOS})")
    agents = [int(a) for a in args.agents.split(",") if a.strip()]
    return [
        Cell(
            sc,
            n,
            seed,
            p_human=args.p_human,
            hours=args.hours,
            ratio=args.ratio,
            frontier_caps=caps,
        )
        for sc in scenarios
        for n in agents
        for seed in range(args.seeds)
    ]


def _frontier_caps(text: str) -> tuple[float, ...]:
    try:
        caps = tuple(float(c) for c in text.split(",") if c.strip())
    except ValueError:
        msg = f"dialer: --frontier takes abandon rates like 0.03,0.05, not {text!r}"
        raise SystemExit(msg) from None
    if any(not 0.0 < c < 1.0 for c in caps):
        raise SystemExit("dialer: --frontier rates are fractions between 0 and 1 (0.05 = 5 %)")
    return caps


def _execute(cells: list[Cell], jobs: int) -> list[dict[str, Any]]:
    if jobs <= 1 or len(cells) == 1:
        return [run_cell(c) for c in cells]
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        done: list[dict[str, Any]] = []
        for result in pool.imap_unordered(run_cell, cells):
            cell = result["cell"]
            info(f"done {cell.scenario} N={cell.agents} seed={cell.seed}")
            done.append(result)
        return done


def _aggregate_policy(runs: list[dict[str, Any] | None], seeds: list[int]) -> dict[str, Any] | None:
    present = [r for r in runs if r is not None]
    if not present:
        return None
    agg: dict[str, Any] = {
        "seeds": len(present),
        "seeds_without_feasible_ratio": len(runs) - len(present),
    }
    for key in MEANS:
        if key in present[0]:
            agg[key] = statistics.fmean(r[key] for r in present)
    if "talk_fraction" in present[0]:
        agg["talk_fraction_min"] = min(r["talk_fraction"] for r in present)
    for flag in ("cap_exceeded", "cap_exceeded_by_pacing", "fp_floor_exceeded"):
        if flag in present[0]:
            agg[flag] = any(r[flag] for r in present)
    if "cap_exceeded_by_pacing" in present[0]:
        agg["seeds_over_cap_by_pacing"] = [
            seed for seed, r in zip(seeds, runs, strict=True) if r and r["cap_exceeded_by_pacing"]
        ]
    if "ratio" in present[0]:
        agg["ratios"] = [r["ratio"] for r in present]
        # the hindsight search stopped at the grid's top here: a higher ratio might have won
        agg["seeds_at_grid_top"] = sum(r["ratio"] >= GRID[-1] for r in present)
    return agg


def _aggregate(results: Iterable[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    grouped: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for res in results:
        cell = res["cell"]
        grouped.setdefault((cell.scenario, cell.agents), []).append(res)
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for (sc, n), cell_runs in sorted(grouped.items()):
        cell_runs.sort(key=lambda r: r["cell"].seed)
        seeds = [r["cell"].seed for r in cell_runs]
        row = {p: _aggregate_policy([r["policies"][p] for r in cell_runs], seeds) for p in ORDER}
        _add_comparisons(row, cell_runs)
        if cell_runs[0]["frontier"] is not None:
            row["frontier"] = _aggregate_frontier([r["frontier"] for r in cell_runs])
        table.setdefault(sc, {})[str(n)] = row
    return table


def _aggregate_frontier(runs: list[dict[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    """Seed means of each frontier point (the points are in the same order in every seed)."""
    out: dict[str, Any] = {}
    for policy, points in runs[0].items():
        out[policy] = [
            {
                **{k: v for k, v in point.items() if k in ("cap", "ratio")},
                "talk_fraction": statistics.fmean(r[policy][i]["talk_fraction"] for r in runs),
                "abandon_rate": statistics.fmean(r[policy][i]["abandon_rate"] for r in runs),
                "cap_exceeded": any(r[policy][i]["cap_exceeded"] for r in runs),
            }
            for i, point in enumerate(points)
        ]
    return out


def _add_comparisons(row: dict[str, Any], runs: list[dict[str, Any]]) -> None:
    prog = row["progressive"]["talk_fraction"]
    ceiling = row["ceiling"]["talk_fraction"]
    for name in ORDER:
        if row[name] is not None and name != "ceiling":
            row[name]["efficiency"] = (row[name]["talk_fraction"] - prog) / (ceiling - prog)
    pred = row["predictive"]
    pred["gain_talk_min_per_agent_hour"] = (pred["talk_fraction"] - prog) * 60.0
    wins = 0
    for r in runs:
        best = r["policies"]["best_static"]
        best_tf = best["talk_fraction"] if best is not None else 0.0
        wins += r["policies"]["predictive"]["talk_fraction"] >= best_tf
    pred["seeds_beating_best_static"] = wins


def _targets(table: dict[str, dict[str, dict[str, Any]]], p_human: float) -> dict[str, Any]:
    checks: dict[str, Any] = {}
    for sc, rows in table.items():
        for n, row in rows.items():
            pred, best = row["predictive"], row["best_static"]
            best_tf = best["talk_fraction"] if best else 0.0
            ok = {
                "beats_best_static": pred["talk_fraction"] >= best_tf,
                "cap_never_exceeded": not pred["cap_exceeded"],
                "cap_never_exceeded_by_pacing": not pred["cap_exceeded_by_pacing"],
            }
            if sc == "steady" and abs(p_human - 0.25) < 1e-9 and int(n) in TARGETS:
                ok["talk_fraction_target"] = TARGETS[int(n)]
                ok["meets_talk_fraction_target"] = pred["talk_fraction"] >= TARGETS[int(n)]
            checks[f"{sc}/N={n}"] = ok
    return checks


def _print_table(table: dict[str, dict[str, dict[str, Any]]]) -> None:
    head = f"{'scenario':8} {'N':>4} {'policy':12} {'talk':>6} {'busy':>6} {'wait':>6}"
    head += f" {'p95':>6} {'dial/ah':>8} {'aband%':>7} {'worst1h%':>8} {'cap':>4} {'eff':>6}"
    print(head)
    for sc, rows in table.items():
        for n, row in rows.items():
            for name in ORDER:
                m = row[name]
                if m is None:
                    print(f"{sc:8} {n:>4} {name:12} (no ratio kept the cap)")
                    continue
                line = f"{sc:8} {n:>4} {name:12} {m['talk_fraction']:6.3f}"
                if name != "ceiling":
                    line += (
                        f" {m['busy_fraction']:6.3f} {m['wait_mean_s']:6.1f} {m['wait_p95_s']:6.1f}"
                    )
                    line += f" {m['dials_per_agent_hour']:8.1f} {100 * m['abandon_rate']:7.2f}"
                    line += f" {100 * m['worst_hour_abandon_rate']:8.2f}"
                    line += f" {'YES' if m['cap_exceeded'] else 'no':>4} {m['efficiency']:6.2f}"
                if m.get("seeds_at_grid_top"):
                    top = m["seeds_at_grid_top"]
                    line += f"  ({top} seeds at the grid's top ratio {GRID[-1]:g})"
                print(line)
            for policy, points in row.get("frontier", {}).items():
                knob = "cap" if policy == "predictive" else "ratio"
                text = ", ".join(
                    f"{knob} {p[knob]:g}: {p['talk_fraction']:.3f}"
                    f" at {100 * p['abandon_rate']:.2f} %"
                    for p in points
                )
                print(f"{sc:8} {n:>4} frontier {policy}: {text}")


def run(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    caps = _frontier_caps(args.frontier)
    cells = _cells(args, caps)
    info(f"pacing bench: {len(cells)} cells on {args.jobs} processes")
    results = _execute(cells, args.jobs)
    table = _aggregate(results)
    if args.plot is not None:
        plot(args.plot, table, results)
    report = {
        "benchmark": "pacing",
        "parameters": {
            "agents": args.agents,
            "p_human": args.p_human,
            "scenario": args.scenario,
            "seeds": args.seeds,
            "hours": args.hours,
            "ratio": args.ratio,
            "frontier_caps": list(caps),
        },
        "results": table,
        "targets": _targets(table, args.p_human),
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    if not args.json:
        _print_table(table)
        report = {"targets": report["targets"], "elapsed_s": report["elapsed_s"]}
    emit(report, as_json=args.json)
    return 0


def _plot_frontier(axes: Any, n: str, frontier: dict[str, Any] | None, marker: str) -> None:
    for policy, points in (frontier or {}).items():
        axes.plot(
            [100 * p["abandon_rate"] for p in points],
            [p["talk_fraction"] for p in points],
            linestyle=FRONTIER_STYLE[policy],
            marker=marker,
            markersize=3,
            color="grey",
            linewidth=0.8,
            label=f"{policy} frontier N={n}",
        )


def plot(
    path: Path, table: dict[str, dict[str, dict[str, Any]]], results: list[dict[str, Any]]
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    markers = "os^Dvx*P"
    for sc, rows in table.items():
        for i, (n, row) in enumerate(rows.items()):
            _plot_frontier(left, n, row.get("frontier"), markers[i % len(markers)])
            for j, name in enumerate(ORDER):
                m = row[name]
                if m is None:
                    continue
                left.scatter(
                    100 * m.get("abandon_rate", 0.0),
                    m["talk_fraction"],
                    marker=markers[i % len(markers)],
                    color=f"C{j}",
                    label=f"{name}" if i == 0 and sc == next(iter(table)) else None,
                )
                left.annotate(
                    f"{n}", (100 * m.get("abandon_rate", 0.0), m["talk_fraction"]), fontsize=7
                )
    left.axvline(3.0, color="red", linestyle="--", linewidth=1)
    if any("frontier" in row for rows in table.values() for row in rows.values()):
        left.set_xlim(-0.2, 10.0)  # power's high ratios run far past any legal cap
    left.set_xlabel("abandon % (run)")
    left.set_ylabel("talk fraction")
    left.set_title("policies (markers: team sizes)")
    left.legend(fontsize=7)
    twin = right.twinx()
    for res in sorted(results, key=lambda r: (r["cell"].agents, r["cell"].seed)):
        cell = res["cell"]
        if cell.seed != 0 or not res["series"]:
            continue
        hours = [t / 3600.0 for t, *_ in res["series"]]
        right.plot(
            hours,
            [s[2] for s in res["series"]],
            label=f"{cell.scenario} N={cell.agents} lines/agent",
        )
        twin.plot(
            hours,
            [100 * s[3] for s in res["series"]],
            linestyle=":",
            label=f"N={cell.agents} abandon %",
        )
    right.set_xlabel("hour of shift")
    right.set_ylabel("predictive: calls in flight per staffed agent")
    twin.set_ylabel("campaign-to-date abandon %")
    right.legend(fontsize=7, loc="upper left")
    twin.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
