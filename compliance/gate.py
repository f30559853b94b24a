"""The compliance gate service: gathers a contact's facts, asks the pure core, mints, audits.

`ComplianceGate.check(lead_id, channel, purpose, now)` reads the lead, its campaign and list
(zones, place, rule set, window, caps), DNC hits and the registry copy's age (from a `DncSource`:
the node's `DncCache`, or `DncService` straight from PostgreSQL), consents, the attempt history
and, for power/predictive calls, the abandon ledger; calls `compliance.engine.evaluate`; mints a
`Permit` only through `compliance.verdict.permit_for`; and records every verdict, allowed or
refused, with its reasons in the append-only audit_log through a batched `AuditWriter`.
`check_number` does the same for a bare number (the CLI). Problems that stop a verdict being
computed (unknown lead, unreadable campaign settings) are refusals naming the problem.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

import asyncpg

from compliance import consent_store, contact_store, history_store
from compliance.audit_store import AuditWriter, verdict_row
from compliance.campaign_rules import (
    CampaignRow,
    CampaignSettingsError,
    campaign_rules,
    lookback_s,
)
from compliance.engine import evaluate, rule_set_of
from compliance.facts import AbandonState, AssumedZone, CampaignRules, ContactFacts, DncHit
from compliance.permit import DEFAULT_PERMIT_TTL_S, Permit
from compliance.rulesets import PACED_MODES
from compliance.verdict import Reason, Verdict, permit_for
from config.vocabulary import Channel, DialMode, DncChannel, DncScope, Purpose, RuleSetName
from storage.database import Connection


class DncSource(Protocol):
    """Where the gate reads DNC hits and the registry copy's as-of date."""

    async def hits(
        self, phone: str, *, tenant_id: int | None, campaign_id: int | None
    ) -> tuple[DncHit, ...]: ...

    async def registry_as_of(
        self, *, tenant_id: int | None, campaign_id: int | None
    ) -> date | None: ...


@dataclass(frozen=True)
class GateResult:
    """A verdict and, only when it allows the contact, its Permit."""

    verdict: Verdict
    permit: Permit | None
    tenant_id: int | None = None
    lead_id: int | None = None
    campaign_id: int | None = None

    @property
    def allowed(self) -> bool:
        return self.permit is not None

    def as_dict(self) -> dict[str, Any]:
        """The verdict's JSON shape (times in UTC) plus lead, campaign and permit expiry."""
        report = {
            k: v.astimezone(UTC) if isinstance(v, datetime) else v
            for k, v in self.verdict.as_dict().items()
        }
        report |= {
            "lead_id": self.lead_id,
            "campaign_id": self.campaign_id,
            "permit_expires_at": self.permit.expires_at if self.permit else None,
        }
        return report


@dataclass(frozen=True)
class NumberPlace:
    """What is known about a bare number's place (the CLI passes what it was told)."""

    country: str | None = None
    region: str | None = None
    postal_code: str | None = None
    zone_candidates: tuple[str, ...] = ()
    explicit_zone: str | None = None


def refusal(
    phone: str, channel: Channel, purpose: Purpose, now: datetime, rule: str, detail: str
) -> Verdict:
    """A verdict refusing for a reason outside the rules (missing lead, broken campaign)."""
    reasons = (Reason(rule, detail),)
    return Verdict(False, reasons, None, (), phone, channel, purpose, now, RuleSetName.NONE)


class ComplianceGate:
    """Every contact passes here: facts from the stores, the pure verdict, permit, audit row."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        dnc: DncSource,
        *,
        audit: AuditWriter | None = None,
        actor: str = "engine",
        permit_ttl_s: float = DEFAULT_PERMIT_TTL_S,
        ledger_ttl_s: float = 5.0,
    ) -> None:
        self.pool = pool
        self.dnc = dnc
        self.actor = actor
        self.permit_ttl_s = permit_ttl_s
        self.ledger_ttl_s = ledger_ttl_s
        self._owns_audit = audit is None
        self.audit = audit or AuditWriter(pool)
        self._rules: dict[int, tuple[datetime, CampaignRules | str]] = {}
        self._zones: dict[tuple[str, str], AssumedZone | None] = {}
        self._ledgers: dict[tuple[int, RuleSetName], tuple[datetime, AbandonState]] = {}

    async def close(self) -> None:
        """Write the audit rows still queued (and stop the flusher if the gate owns it)."""
        if self._owns_audit:
            await self.audit.close()
        else:
            await self.audit.flush()

    async def __aenter__(self) -> ComplianceGate:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def check(
        self, lead_id: int, channel: Channel, purpose: Purpose, now: datetime
    ) -> GateResult:
        """May this lead be contacted on `channel` for `purpose` at `now`? Audited."""
        async with self.pool.acquire() as conn:
            lead = await contact_store.lead_context(conn, lead_id)
            if lead is None:
                verdict = refusal("", channel, purpose, now, "gate.lead", f"no lead {lead_id}")
                return await self._finish(verdict, None, lead_id, None)
            rules = await self._campaign_rules(lead.campaign, lead.campaign_updated_at)
            if isinstance(rules, str):
                verdict = refusal(lead.phone, channel, purpose, now, "campaign.settings", rules)
                return await self._finish(verdict, lead.tenant_id, lead_id, lead.campaign_id)
            facts = await self._lead_facts(conn, lead, rules, channel, now)
            facts = await self._with_abandon(conn, facts, channel, lead.campaign_id, now)
        verdict = evaluate(facts, channel, purpose, now)
        return await self._finish(verdict, lead.tenant_id, lead_id, lead.campaign_id)

    async def check_number(
        self,
        phone_e164: str,
        channel: Channel,
        purpose: Purpose,
        now: datetime,
        *,
        tenant_id: int,
        place: NumberPlace | None = None,
        campaign_id: int | None = None,
        rule_set: RuleSetName | None = None,
        dial_mode: DialMode | None = None,
    ) -> GateResult:
        """A bare number (no lead): with a campaign, its rules apply; without one, only the law.

        Without a campaign the campaign set-up rules are skipped and no Permit is minted.
        """
        where = place or NumberPlace()
        async with self.pool.acquire() as conn:
            rules = await self._number_rules(conn, campaign_id, rule_set, dial_mode)
            if isinstance(rules, str):
                verdict = refusal(phone_e164, channel, purpose, now, "campaign.settings", rules)
                return await self._finish(verdict, tenant_id, None, campaign_id)
            facts = ContactFacts(
                phone_e164,
                where.country,
                rules,
                region=where.region,
                postal_code=where.postal_code,
                zone_candidates=where.zone_candidates,
                explicit_zone=where.explicit_zone,
            )
            facts = await self._shared_facts(
                conn, facts, tenant_id, campaign_id, None, None, channel, now
            )
            if campaign_id is not None:
                facts = await self._with_abandon(conn, facts, channel, campaign_id, now)
        verdict = evaluate(facts, channel, purpose, now)
        mint = campaign_id is not None
        return await self._finish(verdict, tenant_id, None, campaign_id, mint=mint)

    async def _number_rules(
        self,
        conn: Connection,
        campaign_id: int | None,
        rule_set: RuleSetName | None,
        dial_mode: DialMode | None,
    ) -> CampaignRules | str:
        if campaign_id is None:
            mode = dial_mode or DialMode.PREVIEW
            return CampaignRules(rule_set=rule_set, dial_mode=mode, check_setup=False)
        found = await contact_store.campaign_by_id(conn, campaign_id)
        if found is None:
            return f"no campaign {campaign_id}"
        rules = await self._campaign_rules(found[0], None)
        if isinstance(rules, str) or (rule_set is None and dial_mode is None):
            return rules
        return dataclasses.replace(
            rules, rule_set=rule_set or rules.rule_set, dial_mode=dial_mode or rules.dial_mode
        )

    async def _campaign_rules(
        self, row: CampaignRow, updated_at: datetime | None
    ) -> CampaignRules | str:
        """The campaign's rules, cached per campaign version (the engine caches by identity)."""
        cached = self._rules.get(row.id)
        if cached is not None and updated_at is not None and cached[0] == updated_at:
            return cached[1]
        try:
            rules: CampaignRules | str = campaign_rules(row)
        except CampaignSettingsError as exc:
            rules = str(exc)
        if updated_at is not None:
            self._rules[row.id] = (updated_at, rules)
        return rules

    async def _lead_facts(
        self,
        conn: Connection,
        lead: contact_store.LeadContext,
        rules: CampaignRules,
        channel: Channel,
        now: datetime,
    ) -> ContactFacts:
        assumed = await self._assumed_zone(conn, lead)
        facts = ContactFacts(
            lead.phone,
            lead.country or lead.campaign.default_country,
            rules,
            region=lead.region,
            postal_code=lead.postal_code,
            zone_candidates=lead.tz_candidates,
            explicit_zone=lead.tz_explicit,
            assumed_zone=assumed,
            lead_id=lead.lead_id,
        )
        facts = await self._shared_facts(
            conn,
            facts,
            lead.tenant_id,
            lead.campaign_id,
            lead.lead_id,
            lead.debtor_id,
            channel,
            now,
        )
        if lead.status == "dnc":
            marked = DncHit(
                DncScope.CAMPAIGN,
                DncChannel.ALL,
                False,
                "lead disposition dnc",
                None,
                str(lead.campaign_id),
            )
            facts = dataclasses.replace(facts, dnc_hits=(*facts.dnc_hits, marked))
        return facts

    async def _shared_facts(
        self,
        conn: Connection,
        facts: ContactFacts,
        tenant_id: int,
        campaign_id: int | None,
        lead_id: int | None,
        debtor_id: str | None,
        channel: Channel,
        now: datetime,
    ) -> ContactFacts:
        """DNC, registry age, consents and attempt history: what leads and bare numbers share."""
        phone = facts.phone_e164
        hits = await self.dnc.hits(phone, tenant_id=tenant_id, campaign_id=campaign_id)
        as_of = await self.dnc.registry_as_of(tenant_id=tenant_id, campaign_id=campaign_id)
        consents = await consent_store.consents_for(conn, tenant_id=tenant_id, phone=phone)
        past = await history_store.history(
            conn,
            tenant_id=tenant_id,
            lead_id=lead_id,
            phone=phone,
            debtor_id=debtor_id,
            channel=channel,
            now=now,
            lookback_s=lookback_s(facts.campaign),
        )
        return dataclasses.replace(
            facts,
            dnc_hits=hits,
            registry_as_of=as_of,
            consents=consents,
            attempts=past.attempts,
            last_abandon_at=past.last_abandon_at,
            last_machine_at=past.last_machine_at,
        )

    async def _assumed_zone(
        self, conn: Connection, lead: contact_store.LeadContext
    ) -> AssumedZone | None:
        """The list's audited assume-zone, else the campaign's (cached per subject and zone)."""
        for subject, zone, scope in (
            (f"list:{lead.list_id}", lead.list_zone, "list"),
            (f"campaign:{lead.campaign_id}", lead.campaign_zone, "campaign"),
        ):
            if not zone:
                continue
            key = (subject, zone)
            if key not in self._zones:
                self._zones[key] = await contact_store.assumed_zone(conn, subject, zone, scope)
            if self._zones[key] is not None:
                return self._zones[key]
        return None

    async def _with_abandon(
        self,
        conn: Connection,
        facts: ContactFacts,
        channel: Channel,
        campaign_id: int,
        now: datetime,
    ) -> ContactFacts:
        """Add the abandon ledger's answer for power/predictive calls (cached `ledger_ttl_s`)."""
        if channel is not Channel.CALL or facts.campaign.dial_mode not in PACED_MODES:
            return facts
        rs = rule_set_of(facts)
        key = (campaign_id, rs.name)
        cached = self._ledgers.get(key)
        if cached is None or not 0 <= (now - cached[0]).total_seconds() < self.ledger_ttl_s:
            state = await history_store.abandon_state(conn, [campaign_id], rs.abandon, now)
            group = await history_store.group_members(conn, campaign_id)
            if group:
                grouped = await history_store.abandon_state(conn, group, rs.abandon, now)
                state = min(state, grouped, key=lambda s: s.budget)
            cached = (now, state)
            self._ledgers[key] = cached
        return dataclasses.replace(facts, abandon=cached[1])

    async def _finish(
        self,
        verdict: Verdict,
        tenant_id: int | None,
        lead_id: int | None,
        campaign_id: int | None,
        *,
        mint: bool = True,
    ) -> GateResult:
        """Mint (only through permit_for) when allowed, queue the audit row, return both."""
        permit = None
        if mint:
            permit = permit_for(
                verdict,
                now=verdict.decided_at,
                campaign_id=campaign_id,
                lead_id=lead_id,
                ttl_s=self.permit_ttl_s,
            )
        row = verdict_row(
            verdict,
            tenant_id=tenant_id,
            actor=self.actor,
            lead_id=lead_id,
            campaign_id=campaign_id,
            permit_expires_at=permit.expires_at if permit else None,
        )
        await self.audit.record(row)
        return GateResult(verdict, permit, tenant_id, lead_id, campaign_id)
