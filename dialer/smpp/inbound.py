"""What the engine does with mobile-originated SMS: opt-outs and replies (an `InboundSink`).

An opt-out (STOP, UNSUBSCRIBE, СТОП, ОТПИСКА, or the configured keywords) revokes the number's
SMS consent (`compliance.consent_store.revoke_consent`), adds it to the tenant's DNC for `sms`
(`compliance.dnc_service.DncService.add`), lands on the contact's history, and queues one
confirmation in the outbox (at most one per number per day: its key says so). Any other reply
lands on the contact's history. Everything is durable before the deliver_sm is acknowledged;
a redelivered opt-out is applied again harmlessly (revocation and DNC are idempotent).

The confirmation goes out on a permit with the rule `sms.opt-out-confirmation` (a number that
just opted out is on DNC, so the gate would refuse it): see `confirmation_permit`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

import asyncpg
import phonenumbers

from compliance.consent_store import revoke_consent
from compliance.dnc_service import DncService
from compliance.permit import Permit, mint_opt_out_confirmation_permit
from config.vocabulary import Channel, DncChannel, DncScope
from dialer.smpp import inbound_store
from dialer.smpp.replies import InboundEvent, OptOutReceived
from dialer.smpp.sender import SendRefused, SendRequest, SmsSender
from storage.audit import append_audit

log = logging.getLogger("dialer.smpp.inbound")
OPT_OUT_SOURCE = "sms-stop"


def e164_of(address: str, region: str) -> str | None:
    """An SMPP source address as E.164 (international digits, or national in `region`)."""
    digits = address.strip()
    candidates = [digits if digits.startswith("+") else "+" + digits, digits]
    for raw in candidates:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def confirmation_permit(phone: str, keyword: str, now: datetime) -> Permit:
    """The one message a number may get after opting out: the confirmation that it worked.

    Minted by compliance's own rule for it; the caller audits it.
    """
    return mint_opt_out_confirmation_permit(phone_e164=phone, keyword=keyword, now=now)


class PgInboundSink:
    """Opt-outs and replies of one tenant, recorded in PostgreSQL."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        tenant_id: int,
        dnc: DncService,
        *,
        confirmation: str,
        region: str = "US",
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self.pool, self.tenant_id, self.dnc = pool, tenant_id, dnc
        self.confirmation, self.region, self.on_queued = confirmation, region, on_queued
        self.sender: SmsSender | None = None
        self.opt_outs = 0
        self.replies = 0

    async def inbound_received(self, events: Sequence[InboundEvent]) -> None:
        for event in events:
            phone = e164_of(event.source_addr, self.region)
            if phone is None:
                log.warning("inbound from an unusable address", extra={"fields": {
                    "source_addr": event.source_addr}})  # fmt: skip
                continue
            if isinstance(event, OptOutReceived):
                await self._opt_out(event, phone)
            else:
                await self._reply(event.text, event.destination_addr, phone, event.at)

    async def _reply(self, text: str, ours: str, phone: str, at: datetime) -> None:
        await inbound_store.record_inbound(self.pool, tenant_id=self.tenant_id, phone=phone,
                                           our_number=ours, text=text, at=at, data={})  # fmt: skip
        self.replies += 1

    async def _opt_out(self, event: OptOutReceived, phone: str) -> None:
        tenant, at = self.tenant_id, event.at
        async with self.pool.acquire() as conn, conn.transaction():
            revoked = await revoke_consent(conn, tenant_id=tenant, phone=phone,
                                           channel=Channel.SMS, source=OPT_OUT_SOURCE, at=at,
                                           actor="sms-inbound")  # fmt: skip
            data = {"opt_out": event.keyword, "consents_revoked": revoked}
            await inbound_store.record_inbound(conn, tenant_id=tenant, phone=phone,
                                               our_number=event.destination_addr,
                                               text=event.text, at=at, data=data)  # fmt: skip
        change = await self.dnc.add(phone, DncScope.TENANT, DncChannel.SMS, OPT_OUT_SOURCE,
                                    tenant_id=tenant, reason=f"SMS keyword {event.keyword}",
                                    actor="sms-inbound")  # fmt: skip
        if not change.ok:
            raise RuntimeError(f"DNC add for {phone} failed: {change.error}")
        self.opt_outs += 1
        await self._confirm(phone, event.keyword, at)

    async def _confirm(self, phone: str, keyword: str, at: datetime) -> None:
        if self.sender is None or not self.confirmation:
            return
        permit = confirmation_permit(phone, keyword, at)
        await append_audit(self.pool, tenant_id=self.tenant_id, actor="sms-inbound",
                           action="sms.opt_out_confirmation", subject=phone, allowed=True,
                           reasons=permit.reasons)  # fmt: skip
        key = f"stop-confirm:{self.tenant_id}:{phone}:{at.date().isoformat()}"
        request = SendRequest(permit, self.confirmation, key)
        (result,) = await self.sender.send_many([request], claimed=False)
        if not isinstance(result, SendRefused) and self.on_queued is not None:
            self.on_queued()
