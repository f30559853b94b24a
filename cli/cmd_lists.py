"""`dialer lists import`: import a call list (CSV) into a campaign with exact counts."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from campaigns.lead_import import ImportOptions, ImportSummary, import_list
from cli.context import CommandError, run_async
from cli.output import emit
from cli.progress import Progress
from config import Settings
from storage.runtime import open_storage


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("lists", help="call lists")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    imp = actions.add_parser("import", help="import a CSV call list into a campaign")
    imp.add_argument("file", type=Path)
    imp.add_argument("--campaign", required=True, help="campaign name")
    imp.add_argument("--country", help="default region for national numbers (default: campaign's)")
    imp.add_argument(
        "--map",
        dest="column_map",
        help="FIELD=COLUMN pairs, e.g. phone=Phone,first_name=Name,alt_phones=Home",
    )
    imp.add_argument("--errors", type=Path, help="error report CSV (default: FILE.errors.csv)")
    imp.add_argument("--name", help="list name (default: the file name)")
    imp.add_argument("--json", action="store_true", help="print one JSON object")
    imp.set_defaults(handler=run_import)


def run_list_import(
    settings: Settings, tenant: str, campaign: str, path: Path, options: ImportOptions
) -> ImportSummary:
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    progress = Progress(f"importing {path.name}")

    async def main() -> ImportSummary:
        async with open_storage(settings, with_redis=False) as storage:
            return await import_list(storage.pool, tenant, campaign, path, options, progress.update)

    try:
        return run_async(main)
    finally:
        progress.close()


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The import summary for people (the --json form carries the same fields)."""
    lines = [
        f"rows {report['rows']:,}: imported {report['imported']:,}, invalid {report['invalid']:,}, "
        f"duplicates {report['duplicates']:,} ({report['seconds']:.2f} s)",
        f"file: {report['encoding']}, delimiter {report['delimiter']!r}",
    ]
    if report["ambiguous_zone"]:
        lines.append(
            f"ambiguous time zone: {report['ambiguous_zone']:,} leads; {report['zone_hint']}"
        )
    for error in report["errors"]:
        lines.append(f"  line {error['line']}: {error['reason']} ({error['raw_phone']!r})")
    if report["invalid"] or report["duplicates"]:
        lines.append(f"full report: {report['errors_file']}")
    return lines


def run_import(args: argparse.Namespace, settings: Settings) -> int:
    options = ImportOptions(
        default_region=args.country,
        column_map=args.column_map,
        errors_path=args.errors,
        list_name=args.name,
        workers=settings.imports.workers,
        chunk_rows=settings.imports.chunk_rows,
        error_sample_size=settings.imports.error_sample_size,
    )
    tenant = args.tenant or settings.default_tenant
    summary = run_list_import(settings, tenant, args.campaign, args.file, options)
    if args.json:
        emit(summary.report(), as_json=True)
    else:
        print("\n".join(summary_lines(summary.report())))
    return 0
