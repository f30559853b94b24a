"""`dialer sms send` (an operator-test SMS, audited) and `dialer sms campaign run` (a campaign)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import ssl
from datetime import UTC, datetime
from typing import Any

import asyncpg
import phonenumbers

from campaigns import service as campaigns_service
from campaigns import sms_campaign_store
from campaigns.models import Campaign
from campaigns.sms_campaign import SETTINGS_KEY, Template, parse_template
from cli.context import CommandError, run_async
from cli.output import emit, info
from compliance.dnc_service import DncService
from compliance.gate import ComplianceGate
from compliance.permit import Permit, mint_operator_test_permit
from config import Settings
from config.vocabulary import CampaignChannel, CampaignStatus, Channel, SmsStatus
from dialer.smpp import outbox_store
from dialer.smpp.client import ClientConfig, SmppClient
from dialer.smpp.inbound import PgInboundSink
from dialer.smpp.outbox import NodeBusy
from dialer.smpp.persistence import MemorySmsStore
from dialer.smpp.rate import DestinationSpacing
from dialer.smpp.runtime import (
    BindError,
    client_config,
    default_node_id,
    sender_config,
    sms_runtime,
)
from dialer.smpp.segmentation import Concatenation
from dialer.smpp.sender import MemoryInboundSink, OutboundSms, SenderConfig, SendRefused, SmsSender
from dialer.smpp.session import BindMode, SessionConfig
from dialer.sms_campaign import SmsCampaignRunner
from storage.runtime import open_storage

audit = logging.getLogger("dialer.audit")
SUCCESS = frozenset({SmsStatus.ACCEPTED, SmsStatus.DELIVERED})
IN_FLIGHT = frozenset({"queued", "submitted", "accepted"})


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("sms", help="SMS over SMPP (operator tools)")
    actions = parser.add_subparsers(dest="sms_command", required=True, metavar="ACTION")
    send = actions.add_parser("send", help="send one SMS under an operator-test permit")
    add = send.add_argument
    add("number", help="destination, E.164 (+79001234567) or national with --region")
    add("text")
    add("--smsc", required=True, metavar="HOST:PORT")
    add("--system-id", required=True)
    add("--password", required=True)
    add("--system-type", default="")
    add("--source", default="", help="sender address (digits or alphanumeric)")
    add("--region", default=None, help="ISO country for a national NUMBER")
    add("--bind", choices=[m.value for m in BindMode], default=BindMode.TRANSCEIVER.value)
    add("--concatenation", choices=[c.value for c in Concatenation], default="udh8")
    add("--wait-receipt", type=float, default=0.0, metavar="S", help="wait S seconds for receipts")
    add("--timeout-s", type=float, default=15.0, help="give up binding/accepting after this long")
    add("--tls", action="store_true", help="SMPP over TLS")
    add("--tls-insecure", action="store_true", help="TLS without certificate verification")
    add("--operator", default=None, help="who is testing (default: the login name)")
    add("--json", action="store_true", help="print one JSON object")
    send.set_defaults(handler=run_send)
    register_campaign(actions)


def register_campaign(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    campaign = actions.add_parser("campaign", help="SMS campaigns through the compliance gate")
    commands = campaign.add_subparsers(dest="campaign_command", required=True, metavar="ACTION")
    run = commands.add_parser("run", help="text the campaign's due leads, then report")
    add = run.add_argument
    add("name", help="campaign name (its channel must be sms)")
    add("--smsc", default=None, metavar="HOST:PORT", help="default: settings sms.smsc_host/port")
    add("--system-id", default=None, help="default: settings sms.system_id")
    add("--password", default=None, help="default: settings sms.password")
    add("--template", default=None, help="set the campaign's template (checked, audited)")
    add("--max", type=int, default=None, metavar="N", help="send at most N messages")
    add("--wait-receipts", type=float, default=0.0, metavar="S", help="wait S s for receipts")
    add("--bind-timeout-s", type=float, default=15.0)
    add("--node", default=None, help="engine node id (default: settings sms.node_id or unique)")
    add("--json", action="store_true", help="print one JSON object")
    run.set_defaults(handler=run_campaign)


def _e164(number: str, region: str | None) -> str:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as exc:
        raise CommandError(f"{number!r}: not a phone number ({exc})") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise CommandError(f"{number!r}: not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _smsc_address(text: str) -> tuple[str, int]:
    """`--smsc HOST:PORT` → (host, port), or a clear error."""
    host, _, port = text.rpartition(":")
    if not host or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        raise CommandError(f"--smsc {text!r}: expected HOST:PORT")
    return host, int(port)


def _client_config(args: argparse.Namespace) -> ClientConfig:
    host, port = _smsc_address(args.smsc)
    context = None
    if args.tls:
        context = ssl.create_default_context()
        if args.tls_insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    session = SessionConfig(args.system_id, args.password, BindMode(args.bind), args.system_type)
    return ClientConfig(host, port, session, context, connect_timeout_s=args.timeout_s)


def _report(message: OutboundSms) -> dict[str, Any]:
    return {
        "destination": message.destination,
        "parts": message.parts,
        "encoding": message.encoding,
        "message_ids": list(message.message_ids),
        "status": message.status,
        "part_statuses": list(message.statuses),
        "errors": [e for e in message.errors if e],
        "persistence": "in-memory",
    }


async def _send(args: argparse.Namespace, phone: str, operator: str) -> dict[str, Any]:
    permit = mint_operator_test_permit(
        phone_e164=phone, channel=Channel.SMS, operator=operator, now=datetime.now(UTC)
    )
    fields = {"operator": operator, "phone": phone, "channel": "sms", "rule": permit.reasons}
    audit.info("operator-test permit minted", extra={"fields": fields})
    sender = SmsSender(MemorySmsStore(), MemoryInboundSink(),
                       SenderConfig(args.source, Concatenation(args.concatenation)))  # fmt: skip
    client = SmppClient(_client_config(args), sender)
    sender.client = client
    runner = asyncio.create_task(client.run())
    bound = asyncio.ensure_future(client.bound.wait())
    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(args.timeout_s):
                await asyncio.wait({runner, bound}, return_when=asyncio.FIRST_COMPLETED)
        if not client.bound.is_set():
            reason = (
                client.fatal or client.stats.last_close_reason or f"nothing in {args.timeout_s} s"
            )
            raise CommandError(f"cannot bind to {args.smsc}: {reason}")
        return _report(await _deliver(args, sender, permit))
    finally:
        bound.cancel()
        await client.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await runner


async def _deliver(args: argparse.Namespace, sender: SmsSender, permit: Permit) -> OutboundSms:
    message = await sender.send(permit, args.text)
    if isinstance(message, SendRefused):
        raise CommandError(f"refused: {message.reason}")
    try:
        async with asyncio.timeout(args.timeout_s):
            await message.accepted.wait()
    except TimeoutError as exc:
        raise CommandError(f"no submit_sm_resp within {args.timeout_s} s") from exc
    if args.wait_receipt > 0:
        info(f"accepted as {message.message_ids}; waiting up to {args.wait_receipt} s for receipts")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(args.wait_receipt):
                await message.finished.wait()
    return message


def _operator(args: argparse.Namespace) -> str:
    return str(args.operator or getpass.getuser())


def run_send(args: argparse.Namespace, settings: Settings) -> int:
    phone = _e164(args.number, args.region)
    report = run_async(lambda: _send(args, phone, _operator(args)))
    emit(report, as_json=args.json)
    return 0 if report["status"] in SUCCESS else 1


def _smsc(args: argparse.Namespace, settings: Settings) -> ClientConfig:
    host, port = settings.sms.smsc_host, settings.sms.smsc_port
    if args.smsc:
        host, port = _smsc_address(args.smsc)
    return client_config(settings.sms, host=host, port=port, system_id=args.system_id,
                         password=args.password)  # fmt: skip


async def _template(pool: asyncpg.Pool, args: argparse.Namespace, campaign: Campaign,
                    tenant: str) -> Template:  # fmt: skip
    """The campaign's template, checked against its leads' fields before anything is sent."""
    keys = await sms_campaign_store.custom_keys(pool, campaign.id)
    if args.template is not None:
        template = parse_template(args.template, keys)
        changes = {"settings": {**campaign.settings, SETTINGS_KEY: args.template}}
        await campaigns_service.update_campaign(pool, tenant, campaign.name, changes, "cli")
        return template
    text = campaign.settings.get(SETTINGS_KEY)
    if not isinstance(text, str):
        raise CommandError(f"campaign {campaign.name!r} has no SMS template: pass --template")
    return parse_template(text, keys)


async def _campaign_main(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    tenant = str(args.tenant or settings.default_tenant)
    sms = settings.sms
    async with open_storage(settings) as storage:
        pool = storage.pool
        campaign = await campaigns_service.get_campaign(pool, tenant, args.name)
        if campaign.channel is not CampaignChannel.SMS:
            raise CommandError(f"campaign {campaign.name!r} is a {campaign.channel} campaign")
        if campaign.status in (CampaignStatus.PAUSED, CampaignStatus.COMPLETED,
                               CampaignStatus.ARCHIVED):  # fmt: skip
            raise CommandError(f"campaign {campaign.name!r} is {campaign.status}")
        template = await _template(pool, args, campaign, tenant)
        dnc = DncService(pool, storage.redis, default_region=campaign.default_country)
        sink = PgInboundSink(pool, campaign.tenant_id, dnc, confirmation=sms.opt_out_confirmation,
                             region=campaign.default_country)  # fmt: skip
        node = args.node or sms.node_id or default_node_id()
        async with (
            ComplianceGate(pool, dnc, actor=f"sms-campaign:{node}") as gate,
            sms_runtime(pool, campaign.tenant_id, _smsc(args, settings), sender_config(sms),
                        inbound=sink, node=node, poll_s=sms.outbox_poll_s,
                        takeover_every_s=sms.outbox_takeover_every_s,
                        bind_timeout_s=args.bind_timeout_s) as rt,
        ):  # fmt: skip
            runner = SmsCampaignRunner(
                pool,
                gate,
                rt.sender,
                campaign,
                template,
                owner=node,
                lock_conn=rt.worker.lock_conn,
                spacing=DestinationSpacing(sms.destination_interval_s),
                batch=sms.campaign_batch,
                lease_s=sms.lead_lease_s,
            )
            info(f"sms campaign {campaign.name}: node {node}, recovery {rt.recovery.as_dict()}")
            report = await runner.run(args.max)
            await _settle(rt.client, args.wait_receipts, pool, campaign.id)
        statuses = await outbox_store.campaign_statuses(pool, campaign.id)
        leads = await sms_campaign_store.remaining(pool, campaign.id)
    return {**report.as_dict(), "recovery": rt.recovery.as_dict(), "node": node,
            "message_statuses": statuses, "lead_statuses": leads}  # fmt: skip


async def _settle(
    client: SmppClient, wait_receipts_s: float, pool: asyncpg.Pool, campaign_id: int
) -> None:
    """Before unbinding: every submit answered (bounded); with S > 0, up to S seconds more
    until every message of the campaign (this run's or not) has a final status."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(max(30.0, wait_receipts_s)):
            await client.drain()
    if wait_receipts_s <= 0:
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(wait_receipts_s):
            while True:
                statuses = await outbox_store.campaign_statuses(pool, campaign_id)
                if not set(statuses) & IN_FLIGHT:
                    return
                await asyncio.sleep(0.2)


def run_campaign(args: argparse.Namespace, settings: Settings) -> int:
    try:
        report = run_async(lambda: _campaign_main(args, settings))
    except (BindError, NodeBusy) as exc:
        raise CommandError(str(exc)) from exc
    emit(report, as_json=args.json)
    return 0 if report["failed"] == 0 else 1
