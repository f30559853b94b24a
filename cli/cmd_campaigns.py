"""`dialer campaigns create|list|show|update`: campaign management for managers."""

from __future__ import annotations

import argparse
from typing import Any

from campaigns import service, store
from campaigns.models import CampaignDraft, parse_enum
from cli.context import run_async
from cli.output import emit
from config import Settings
from config.vocabulary import CampaignChannel, DialMode, Purpose, RuleSetName
from storage.runtime import open_storage


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mode", choices=[m.value for m in DialMode])
    parser.add_argument("--purpose", choices=[p.value for p in Purpose])
    parser.add_argument(
        "--rules",
        dest="rule_set",
        choices=[r.value for r in RuleSetName],
        help="rule set (default: follow each lead's country)",
    )
    parser.add_argument(
        "--country",
        dest="default_country",
        help="default region for national-format numbers (ISO alpha-2)",
    )
    parser.add_argument("--caller-id", dest="caller_id")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("campaigns", help="create, list, show and update campaigns")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a campaign")
    create.add_argument("name")
    create.add_argument("--channel", choices=[c.value for c in CampaignChannel], default="voice")
    _common_options(create)
    create.set_defaults(handler=run_create)
    listing = actions.add_parser("list", help="list the tenant's campaigns")
    listing.add_argument("--json", action="store_true", help="print one JSON object")
    listing.set_defaults(handler=run_list)
    show = actions.add_parser("show", help="show one campaign with lead counts")
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(handler=run_show)
    update = actions.add_parser("update", help="change a campaign")
    update.add_argument("name")
    update.add_argument("--status", choices=["draft", "active", "paused", "completed", "archived"])
    update.add_argument("--rename", dest="new_name")
    update.add_argument(
        "--assume-zone",
        dest="assume_zone",
        help="IANA zone assumed for leads whose zone stays ambiguous (audited; '' clears)",
    )
    _common_options(update)
    update.set_defaults(handler=run_update)


def tenant_of(args: argparse.Namespace, settings: Settings) -> str:
    return str(args.tenant or settings.default_tenant)


def run_create(args: argparse.Namespace, settings: Settings) -> int:
    draft = CampaignDraft(
        name=args.name,
        mode=parse_enum(DialMode, "mode", args.mode or "predictive"),
        channel=parse_enum(CampaignChannel, "channel", args.channel),
        purpose=parse_enum(Purpose, "purpose", args.purpose or "marketing"),
        rule_set=RuleSetName(args.rule_set) if args.rule_set else None,
        default_country=args.default_country or "US",
        caller_id=args.caller_id,
    )

    async def main() -> dict[str, Any]:
        async with open_storage(settings, with_redis=False) as storage:
            campaign = await service.create_campaign(
                storage.pool, tenant_of(args, settings), draft, actor="cli"
            )
            return service.campaign_report(campaign)

    emit(run_async(main), as_json=args.json)
    return 0


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    async def main() -> dict[str, Any]:
        async with open_storage(settings, with_redis=False) as storage:
            found = await service.list_campaigns(storage.pool, tenant_of(args, settings))
            return {"campaigns": [service.campaign_report(c) for c in found]}

    report = run_async(main)
    if args.json:
        emit(report, as_json=True)
    else:
        for c in report["campaigns"]:
            line = f"{c['id']:>5}  {c['name']:<30} {c['mode']:<12} {c['status']:<10}"
            print(f"{line} {c['default_country']}")
    return 0


def run_show(args: argparse.Namespace, settings: Settings) -> int:
    async def main() -> dict[str, Any]:
        async with open_storage(settings, with_redis=False) as storage:
            campaign = await service.get_campaign(
                storage.pool, tenant_of(args, settings), args.name
            )
            report = service.campaign_report(campaign)
            report["leads"] = await store.lead_counts(storage.pool, campaign.id)
            return report

    emit(run_async(main), as_json=args.json)
    return 0


def run_update(args: argparse.Namespace, settings: Settings) -> int:
    changes = {
        key: getattr(args, attr)
        for key, attr in (
            ("mode", "mode"),
            ("purpose", "purpose"),
            ("rule_set", "rule_set"),
            ("default_country", "default_country"),
            ("caller_id", "caller_id"),
            ("status", "status"),
            ("assume_zone", "assume_zone"),
            ("name", "new_name"),
        )
        if getattr(args, attr) is not None
    }

    async def main() -> dict[str, Any]:
        async with open_storage(settings, with_redis=False) as storage:
            campaign = await service.update_campaign(
                storage.pool, tenant_of(args, settings), args.name, changes, actor="cli"
            )
            return service.campaign_report(campaign)

    emit(run_async(main), as_json=args.json)
    return 0
