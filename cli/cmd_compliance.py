"""`dialer compliance check NUMBER`: the verdict for one number now (or --at), with its reasons.

The number's zones come from phonenumbers, narrowed by --zone, --zip or --state exactly as a list
import would; DNC lists, the registry copy's age, consents and attempt history are read from
PostgreSQL; with --campaign its rule set, window, caps and set-up apply. The verdict is audited
like every other. Without --campaign only the law applies (and no permit would be minted).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from campaigns import service
from campaigns.normalise import ValidNumber, normalise_phone
from campaigns.zones import narrow
from cli.context import CommandError, run_async
from cli.output import emit
from compliance.dnc_service import DncService
from compliance.gate import ComplianceGate, NumberPlace
from config import Settings
from config.vocabulary import Channel, DialMode, Purpose, RuleSetName
from storage.runtime import open_storage


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("compliance", help="compliance verdicts")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser("check", help="may this number be contacted now?")
    check.add_argument("number")
    check.add_argument("--at", help="ISO-8601 instant with offset or Z (default: now)")
    check.add_argument(
        "--rules",
        choices=[r.value for r in RuleSetName],
        help="rule set (default: the campaign's, else the number's country)",
    )
    check.add_argument(
        "--purpose",
        choices=[p.value for p in Purpose],
        help="default: the campaign's, else marketing",
    )
    check.add_argument("--channel", choices=[c.value for c in Channel], default="call")
    check.add_argument("--campaign", help="apply this campaign's rules and history")
    check.add_argument(
        "--mode",
        choices=[m.value for m in DialMode],
        help="dial mode (default: the campaign's, else preview)",
    )
    check.add_argument("--zone", help="the callee's IANA time zone")
    check.add_argument("--state", help="US state / CA province / region code")
    check.add_argument("--zip", dest="postal_code", help="postal code (a US ZIP narrows the zone)")
    check.add_argument("--country", help="default region for a national number (default US)")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.set_defaults(handler=run_check)


def parse_at(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--at: {text!r} is not ISO-8601", exit_code=2) from None
    if at.tzinfo is None:
        raise CommandError("--at: give a time zone offset or Z", exit_code=2)
    return at


def place_of(number: ValidNumber, args: argparse.Namespace) -> NumberPlace:
    """The number's country and zones, narrowed by --zone, --zip and --state."""
    if args.zone and narrow((), number.region, args.zone, "", "").explicit is None:
        raise CommandError(f"--zone: {args.zone!r} is not a time zone", exit_code=2)
    found = narrow(
        number.zones, number.region, args.zone or "", args.postal_code or "", args.state or ""
    )
    return NumberPlace(
        number.region, args.state, args.postal_code, found.candidates, found.explicit
    )


def run_check(args: argparse.Namespace, settings: Settings) -> int:
    at = parse_at(args.at)

    async def main() -> dict[str, Any]:
        async with open_storage(settings, with_redis=False) as storage:
            tenant_name = str(args.tenant or settings.default_tenant)
            tenant = await service.require_tenant(storage.pool, tenant_name)
            campaign = None
            if args.campaign:
                campaign = await service.get_campaign(storage.pool, tenant_name, args.campaign)
            region = (args.country or (campaign.default_country if campaign else "US")).upper()
            number = normalise_phone(args.number, region)
            if not isinstance(number, ValidNumber):
                raise CommandError(f"number: {number}", exit_code=2)
            purpose = args.purpose or (campaign.purpose.value if campaign else "marketing")
            dnc = DncService(storage.pool, None, default_region=region)
            async with ComplianceGate(storage.pool, dnc, actor="cli") as gate:
                result = await gate.check_number(
                    number.e164,
                    Channel(args.channel),
                    Purpose(purpose),
                    at,
                    tenant_id=tenant,
                    place=place_of(number, args),
                    campaign_id=campaign.id if campaign else None,
                    rule_set=RuleSetName(args.rules) if args.rules else None,
                    dial_mode=DialMode(args.mode) if args.mode else None,
                )
            return result.as_dict()

    emit(run_async(main), as_json=args.json)
    return 0
