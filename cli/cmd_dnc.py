"""`dialer dnc import|add|remove|check`: DNC lists in PostgreSQL, announced to every engine node."""

from __future__ import annotations

import argparse
from datetime import date, datetime
from pathlib import Path
from typing import Any

import phonenumbers

from campaigns import service
from cli.context import CommandError, run_async
from cli.output import emit, info
from compliance.dnc_service import DncService
from config import Settings
from config.vocabulary import Channel, DncChannel, DncScope
from storage.runtime import Storage, open_storage

SCOPES = [s.value for s in DncScope]
CHANNELS = [c.value for c in DncChannel]


def _common(parser: argparse.ArgumentParser, *, scope_required: bool = False) -> None:
    parser.add_argument(
        "--scope",
        choices=SCOPES,
        required=scope_required,
        default=None if scope_required else "global",
        help="global (default), tenant or campaign",
    )
    parser.add_argument("--campaign", help="campaign name (campaign scope)")
    parser.add_argument("--country", help="default region for national numbers (default US)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("dnc", help="do-not-contact lists: import, add, remove, check")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    imp = actions.add_parser("import", help="import a registry copy or a bulk list")
    imp.add_argument("file", type=Path)
    _common(imp, scope_required=True)
    imp.add_argument("--channel", choices=CHANNELS, default="all")
    imp.add_argument(
        "--as-of",
        dest="as_of",
        type=date.fromisoformat,
        help="registry copy date (YYYY-MM-DD): marks the file a national registry",
    )
    imp.add_argument("--source", help="where the file came from (default: its name)")
    imp.set_defaults(handler=run_import)
    add = actions.add_parser("add", help="add a number")
    add.add_argument("number")
    _common(add)
    add.add_argument("--channel", choices=CHANNELS, default="all")
    add.add_argument("--reason")
    add.add_argument("--expires", type=datetime.fromisoformat, help="ISO-8601 expiry")
    add.add_argument("--source", default="cli")
    add.set_defaults(handler=run_add)
    remove = actions.add_parser("remove", help="remove a number's entries")
    remove.add_argument("number")
    _common(remove)
    remove.add_argument("--channel", choices=CHANNELS, help="one channel (default: every one)")
    remove.add_argument("--reason")
    remove.set_defaults(handler=run_remove)
    check = actions.add_parser("check", help="is a number on a DNC list?")
    check.add_argument("number")
    _common(check)
    check.add_argument("--channel", choices=[c.value for c in Channel])
    check.set_defaults(handler=run_check)


async def _owners(
    storage: Storage, args: argparse.Namespace, settings: Settings
) -> tuple[int, int | None, str]:
    """(tenant id, campaign id, default region) from --tenant, --campaign and --country."""
    tenant_name = str(args.tenant or settings.default_tenant)
    tenant = await service.require_tenant(storage.pool, tenant_name)
    region = args.country
    campaign_id = None
    if args.campaign:
        campaign = await service.get_campaign(storage.pool, tenant_name, args.campaign)
        campaign_id, region = campaign.id, region or campaign.default_country
    if getattr(args, "scope", None) == "campaign" and campaign_id is None:
        raise CommandError("--scope campaign needs --campaign NAME", exit_code=2)
    return tenant, campaign_id, (region or "US").upper()


def _run(settings: Settings, args: argparse.Namespace, body: Any) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        async with open_storage(settings) as storage:
            tenant, campaign_id, region = await _owners(storage, args, settings)
            dnc = DncService(storage.pool, storage.redis, default_region=region)
            result: dict[str, Any] = await body(dnc, tenant, campaign_id, region)
            return result

    return run_async(main)


def run_import(args: argparse.Namespace, settings: Settings) -> int:
    if not args.file.is_file():
        raise CommandError(f"file: {args.file} does not exist", exit_code=2)

    async def body(dnc: DncService, tenant: int, campaign: int | None, region: str) -> Any:
        info(f"importing {args.file} ({args.scope}, {args.channel})")
        return await dnc.import_file(
            args.file,
            scope=DncScope(args.scope),
            channel=DncChannel(args.channel),
            as_of=args.as_of,
            tenant_id=tenant,
            campaign_id=campaign,
            source=args.source,
            country_code=phonenumbers.country_code_for_region(region) or None,
            actor="cli",
        )

    report = _run(settings, args, body)
    emit(report, as_json=args.json)
    return 0 if report.get("ok") else 1


def run_add(args: argparse.Namespace, settings: Settings) -> int:
    if args.expires is not None and args.expires.tzinfo is None:
        raise CommandError("--expires: give a time zone offset or Z", exit_code=2)

    async def body(dnc: DncService, tenant: int, campaign: int | None, region: str) -> Any:
        change = await dnc.add(
            args.number,
            DncScope(args.scope),
            DncChannel(args.channel),
            args.source,
            tenant_id=tenant,
            campaign_id=campaign,
            reason=args.reason,
            expires_at=args.expires,
            actor="cli",
        )
        return change.as_dict()

    report = _run(settings, args, body)
    if not report["ok"]:
        raise CommandError(f"number: {report['error']}", exit_code=2)
    emit(report, as_json=args.json)
    return 0


def run_remove(args: argparse.Namespace, settings: Settings) -> int:
    async def body(dnc: DncService, tenant: int, campaign: int | None, region: str) -> Any:
        channel = DncChannel(args.channel) if args.channel else None
        change = await dnc.remove(
            args.number,
            DncScope(args.scope),
            channel,
            tenant_id=tenant,
            campaign_id=campaign,
            reason=args.reason,
            actor="cli",
        )
        return change.as_dict() | {"removed": len(change.entries)}

    report = _run(settings, args, body)
    if report["phone"] is None:
        raise CommandError(f"number: {report['error']}", exit_code=2)
    emit(report, as_json=args.json)
    return 0


def run_check(args: argparse.Namespace, settings: Settings) -> int:
    async def body(dnc: DncService, tenant: int, campaign: int | None, region: str) -> Any:
        channel = Channel(args.channel) if args.channel else None
        status = await dnc.check(
            args.number, tenant_id=tenant, campaign_id=campaign, channel=channel
        )
        return status.as_dict()

    emit(_run(settings, args, body), as_json=args.json)
    return 0
