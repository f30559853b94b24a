"""`dialer call NUMBER --trunk sip:HOST:PORT`: one audited operator-test call through a trunk."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
from datetime import UTC, datetime
from typing import Any

import phonenumbers

from cli.context import CommandError, run_async
from cli.output import emit, info
from compliance.permit import Permit, mint_operator_test_permit
from config import Settings
from config.vocabulary import Channel
from dialer.sip.events import CallAnswered, CallEnded, EarlyMediaStarted, RingingStarted
from dialer.sip.trunk import Trunk, TrunkConfig

audit = logging.getLogger("compliance.audit")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("call", help="place one test call through a SIP trunk")
    parser.add_argument("number", help="the number to call, E.164 (+15551234567)")
    parser.add_argument("--trunk", required=True, help="sip:HOST:PORT of the trunk")
    parser.add_argument("--transport", choices=("udp", "tcp"), default=None)
    parser.add_argument("--username", default=None)
    parser.add_argument("--password", default=None)
    parser.add_argument("--caller-id", default="dialer", help="user part of our From")
    parser.add_argument("--ring-timeout", type=float, default=20.0, help="seconds from first ring")
    parser.add_argument("--hold", type=float, default=5.0, help="seconds to stay after the answer")
    parser.add_argument("--operator", default=None, help="who places the call (default: $USER)")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=run_call)


def normalise(number: str) -> str:
    """E.164 for a number typed by an operator; raises CommandError when it cannot be dialled."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException as exc:
        raise CommandError(f"not an E.164 number: {number!r} ({exc})", exit_code=2) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise CommandError(f"not a possible phone number: {number!r}", exit_code=2)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def run_call(args: argparse.Namespace, settings: Settings) -> int:
    phone = normalise(args.number)
    operator = args.operator or getpass.getuser()
    try:
        config = TrunkConfig.from_uri(
            args.trunk,
            transport=args.transport,
            username=args.username,
            password=args.password,
            caller_id=args.caller_id,
            max_channels=1,
        )
    except ValueError as exc:
        raise CommandError(str(exc), exit_code=2) from exc
    permit = mint_operator_test_permit(
        phone_e164=phone, channel=Channel.CALL, operator=operator, now=datetime.now(UTC)
    )
    audit.info(
        "operator test permit",
        extra={"fields": {"phone": phone, "operator": operator, "rule": permit.reasons[0]}},
    )
    report = run_async(lambda: place_call(config, permit, args.ring_timeout, args.hold))
    emit(report, as_json=args.json)
    return 0


async def place_call(
    config: TrunkConfig, permit: Permit, ring_timeout_s: float, hold_s: float
) -> dict[str, Any]:
    """Originate, hang up `hold_s` after the answer, and report how the call went."""
    bound_s = config.setup_cap_s + ring_timeout_s + hold_s + 2 * config.timers.timeout_s
    early_media = False
    async with Trunk(config) as trunk, asyncio.timeout(bound_s):
        call = await trunk.originate(permit, ring_timeout_s=ring_timeout_s)
        info(f"calling {permit.phone_e164} via {config.host}:{config.port} ({call.call_id})")
        hangup: asyncio.TimerHandle | None = None
        async for event in call:
            if isinstance(event, RingingStarted):
                info(f"ringing ({event.sip_code})")
            elif isinstance(event, EarlyMediaStarted):
                early_media = True
            elif isinstance(event, CallAnswered):
                info(f"answered; hanging up in {hold_s:g} s")
                hangup = asyncio.get_running_loop().call_later(hold_s, call.hangup)
        if hangup is not None:
            hangup.cancel()
        ended = await call.wait_ended()
    return _report(permit, call.call_id, ended, early_media)


def _report(permit: Permit, call_id: str, ended: CallEnded, early_media: bool) -> dict[str, Any]:
    return {
        "number": permit.phone_e164,
        "operator": permit.operator,
        "call_id": call_id,
        "outcome": ended.outcome.value,
        "sip_code": ended.sip_code,
        "ring_s": round(ended.ring_s, 3),
        "talk_s": round(ended.talk_s, 3),
        "hangup_by": ended.hangup_by.value,
        "reason": ended.reason,
        "q850_cause": ended.q850_cause,
        "early_media": early_media,
        "crossed_cancel": ended.crossed_cancel,
    }
