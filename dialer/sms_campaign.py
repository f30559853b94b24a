"""The SMS campaign runner: lease leads, ask the compliance gate, render, send, finish or park.

Each round leases up to `batch` due leads of the campaign (`FOR UPDATE SKIP LOCKED`), asks the
gate for each (`Channel.SMS`, the campaign's purpose), renders the template for the allowed ones
and enters them in the outbox in one write (`SmsSender.send_many`), then records each lead's end:
sent (`done`), refused (parked until the verdict's `next_allowed_at`, or `done` when no instant
will allow it), deferred by the per-destination spacing, or failed (retried later). A lead's
message key is fixed until the lead is finished, so a lead leased again after a crash is never
texted twice: the outbox refuses the known key and the lead is finished as already sent.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import asyncpg

from campaigns import sms_campaign_store as leads_db
from campaigns.models import Campaign
from campaigns.sms_campaign import Template
from campaigns.sms_campaign_store import LeadResult, LeasedLead
from compliance.gate import GateResult
from config.vocabulary import Channel, Purpose
from dialer.smpp import outbox_store
from dialer.smpp.rate import DestinationSpacing
from dialer.smpp.sender import SendRefused, SendRequest, SmsSender
from storage.database import Connection

RETRY_AFTER_FAILURE_S = 60.0
GATE_CONCURRENCY = 8


class Gate(Protocol):
    async def check(
        self, lead_id: int, channel: Channel, purpose: Purpose, now: datetime
    ) -> GateResult: ...


@dataclass
class RunReport:
    campaign: str
    leased: int = 0
    sent: int = 0
    already_sent: int = 0
    refused: int = 0
    deferred: int = 0
    failed: int = 0
    refusals: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "leased": self.leased,
            "sent": self.sent,
            "already_sent": self.already_sent,
            "refused": self.refused,
            "deferred": self.deferred,
            "failed": self.failed,
            "refusal_rules": dict(self.refusals),
        }


class SmsCampaignRunner:
    """Runs one SMS campaign on this node (`owner` is the node id that leases leads)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        gate: Gate,
        sender: SmsSender,
        campaign: Campaign,
        template: Template,
        *,
        owner: str,
        lock_conn: Connection,
        spacing: DestinationSpacing,
        batch: int = 100,
        lease_s: float = 300.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.pool, self.gate, self.sender = pool, gate, sender
        self.campaign, self.template = campaign, template
        self.owner, self.lock_conn, self.spacing = owner, lock_conn, spacing
        self.batch, self.lease_s, self.clock = batch, lease_s, clock
        self.report = RunReport(campaign.name)
        self.source_addr = (campaign.caller_id or "").lstrip("+") or None

    async def run(self, max_messages: int | None = None) -> RunReport:
        """Send until no lead is due (or `max_messages` were sent); leases are always released."""
        self.report = RunReport(self.campaign.name)
        try:
            await self.reclaim_dead_leases()
            while max_messages is None or self.report.sent < max_messages:
                limit = self.batch
                if max_messages is not None:
                    limit = min(limit, max_messages - self.report.sent)
                now = self.clock()
                leads = await leads_db.lease(
                    self.pool, self.campaign.id, self.owner, now, self.lease_s, limit
                )
                if not leads:
                    break
                self.report.leased += len(leads)
                results = await self._round(leads)
                await leads_db.finish(self.pool, self.owner, self.clock(), results)
        finally:
            await leads_db.release(self.pool, self.owner)
        return self.report

    async def reclaim_dead_leases(self) -> None:
        """Leads leased by runners that died (their node lock is free) come back at once."""
        for owner in await leads_db.lease_owners(self.pool, self.campaign.id):
            if owner == self.owner or not await outbox_store.try_lock_node(self.lock_conn, owner):
                continue
            try:
                await leads_db.release(self.pool, owner)
            finally:
                await outbox_store.unlock_node(self.lock_conn, owner)

    async def _round(self, leads: Sequence[LeasedLead]) -> list[LeadResult]:
        limit = asyncio.Semaphore(GATE_CONCURRENCY)

        async def ask(lead: LeasedLead) -> GateResult:
            async with limit:
                return await self.gate.check(lead.id, Channel.SMS, self.campaign.purpose,
                                             self.clock())  # fmt: skip

        verdicts = await asyncio.gather(*(ask(lead) for lead in leads))
        results: list[LeadResult] = []
        sending: list[tuple[LeasedLead, SendRequest]] = []
        loop_now = asyncio.get_running_loop().time()
        for lead, verdict in zip(leads, verdicts, strict=True):
            if verdict.permit is None:
                results.append(self._refused(lead, verdict))
                continue
            wait_s = self.spacing.wait_s(lead.phone, loop_now)
            if wait_s > 0:
                self.report.deferred += 1
                later = self.clock() + timedelta(seconds=wait_s)
                results.append(LeadResult(lead.id, "retry", "sms:deferred (spacing)", later))
                continue
            text = self.template.render(lead.fields)
            request = SendRequest(verdict.permit, text, lead.message_key, self.source_addr)
            sending.append((lead, request))
        outcomes = await self.sender.send_many([request for _, request in sending])
        for (lead, _), outcome in zip(sending, outcomes, strict=True):
            results.append(self._sent(lead, outcome))
        return results

    def _refused(self, lead: LeasedLead, result: GateResult) -> LeadResult:
        self.report.refused += 1
        verdict = result.verdict
        rule = verdict.refusals[0].rule if verdict.refusals else "refused"
        self.report.refusals[rule] += 1
        if verdict.next_allowed_at is None:
            return LeadResult(lead.id, "done", f"sms:refused {rule}")
        return LeadResult(lead.id, "retry", f"sms:parked {rule}", verdict.next_allowed_at)

    def _sent(self, lead: LeasedLead, outcome: object) -> LeadResult:
        if not isinstance(outcome, SendRefused):
            self.report.sent += 1
            return LeadResult(lead.id, "done", "sms:sent", attempted=True)
        if outcome.duplicate:
            self.report.already_sent += 1
            return LeadResult(lead.id, "done", "sms:sent", attempted=True)
        self.report.failed += 1
        later = self.clock() + timedelta(seconds=RETRY_AFTER_FAILURE_S)
        return LeadResult(lead.id, "retry", f"sms:failed {outcome.reason}"[:200], later)
