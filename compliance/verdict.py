"""The verdict value (allowed or not, why, and when next) and the gate that turns it into a Permit.

`permit_for` is the only place an allowing verdict becomes a `Permit`; a refusing one yields None
(an expected outcome, not an exception). The permit never outlives the verdict's allowed span.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from compliance.permit import DEFAULT_PERMIT_TTL_S, Permit, mint_permit
from config.vocabulary import Channel, Purpose, RuleSetName


class Reason(NamedTuple):
    """One rule's say in a verdict: the rule's name and the figure that decided."""

    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether one contact may happen now; `next_allowed_at` is the first allowed instant."""

    allowed: bool
    reasons: tuple[Reason, ...]
    next_allowed_at: datetime | None
    zones: tuple[str, ...]
    phone_e164: str
    channel: Channel
    purpose: Purpose
    decided_at: datetime
    rule_set: RuleSetName
    allowed_until: datetime | None = None  # when an allowing verdict stops holding (window end)

    @property
    def refusals(self) -> tuple[Reason, ...]:
        """The reasons that refused (all of them when refused; none when allowed)."""
        return () if self.allowed else self.reasons

    def as_dict(self) -> dict[str, Any]:
        """The CLI/JSON shape: allowed, reasons as {rule, detail}, next_allowed_at, zones."""
        return {
            "allowed": self.allowed,
            "phone": self.phone_e164,
            "channel": self.channel.value,
            "purpose": self.purpose.value,
            "rule_set": self.rule_set.value,
            "decided_at": self.decided_at,
            "reasons": [{"rule": r.rule, "detail": r.detail} for r in self.reasons],
            "next_allowed_at": self.next_allowed_at,
            "allowed_until": self.allowed_until,
            "zones": list(self.zones),
        }


def permit_for(
    verdict: Verdict,
    *,
    now: datetime,
    campaign_id: int | None = None,
    lead_id: int | None = None,
    ttl_s: float = DEFAULT_PERMIT_TTL_S,
) -> Permit | None:
    """The gate: a Permit for an allowing verdict still valid at `now`, else None."""
    if not verdict.allowed or now < verdict.decided_at:
        return None
    if verdict.allowed_until is not None:
        if now >= verdict.allowed_until:
            return None
        ttl_s = min(ttl_s, (verdict.allowed_until - now).total_seconds())
    if now - verdict.decided_at > timedelta(seconds=ttl_s):
        return None
    return mint_permit(
        allowed=True,
        reasons=tuple(str(r) for r in verdict.reasons),
        phone_e164=verdict.phone_e164,
        channel=verdict.channel,
        purpose=verdict.purpose,
        now=now,
        campaign_id=campaign_id,
        lead_id=lead_id,
        ttl_s=ttl_s,
    )
