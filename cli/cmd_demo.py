"""`dialer demo`: the first-run job on embedded defaults: a campaign, a sample list, its summary."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from campaigns import service, store
from campaigns.lead_import import ImportOptions, import_list
from campaigns.models import CampaignDraft
from cli.cmd_lists import summary_lines
from cli.context import run_async
from cli.output import emit, info
from config import Settings
from config.vocabulary import DialMode
from storage.runtime import open_storage

SAMPLE_LIST = Path(__file__).resolve().parent.parent / "examples" / "leads.csv"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("demo", help="create a campaign and import the sample list")
    parser.add_argument("--list", type=Path, default=SAMPLE_LIST, help="CSV to import")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    tenant = args.tenant or settings.default_tenant
    name = "demo " + datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    errors_path = settings.data_dir / "demo-errors.csv"

    async def main() -> dict[str, Any]:
        async with open_storage(settings) as storage:
            info(f"storage: {storage.database_label}, redis {storage.redis_label}")
            draft = CampaignDraft(name=name, mode=DialMode.PREDICTIVE, default_country="US")
            campaign = await service.create_campaign(storage.pool, tenant, draft, actor="demo")
            info(f"campaign created: {campaign.name!r} (id {campaign.id})")
            options = ImportOptions(errors_path=errors_path, actor="demo")
            summary = await import_list(storage.pool, tenant, campaign.name, args.list, options)
            counts = await store.lead_counts(storage.pool, campaign.id)
            return {
                "campaign": campaign.name,
                "campaign_id": campaign.id,
                "import": summary.report(),
                "leads_by_status": counts,
            }

    report = run_async(main)
    if args.json:
        emit(report, as_json=True)
    else:
        print(f"campaign {report['campaign']!r} (id {report['campaign_id']})")
        print("\n".join(summary_lines(report["import"])))
        print(f"leads by status: {report['leads_by_status']}")
    return 0
