"""The compliance gate as a type: a `Permit` is the only thing the SIP and SMS layers accept.

Permits are minted here and nowhere else: `mint_permit` turns an allowing verdict into one,
`mint_operator_test_permit` serves the audited operator tools (`dialer call`, `dialer sms send`),
and `mint_opt_out_confirmation_permit` allows the one SMS that confirms an opt-out (the number is
already on DNC, so no verdict could allow it).
Constructing `Permit(...)` directly raises; a test scans the code for constructions elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from config.vocabulary import Channel, Purpose

_MINT = object()
DEFAULT_PERMIT_TTL_S = 60.0
OPERATOR_TEST_RULE = "operator.test"
OPT_OUT_CONFIRMATION_RULE = "sms.opt-out-confirmation"
OPT_OUT_CONFIRMATION_TTL_S = 3600.0


class PermitError(ValueError):
    """A permit was asked for without an allowing verdict, or constructed outside compliance."""


@dataclass(frozen=True, slots=True)
class Permit:
    """Proof that compliance allowed contacting `phone_e164` on `channel` until `expires_at`."""

    phone_e164: str
    channel: Channel
    purpose: Purpose
    reasons: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    campaign_id: int | None = None
    lead_id: int | None = None
    operator: str | None = None
    _token: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._token is not _MINT:
            raise PermitError("Permit is minted by compliance only (compliance.permit.mint_*)")
        if self.issued_at.tzinfo is None or self.expires_at.tzinfo is None:
            raise PermitError("permit times must be timezone-aware")

    def is_valid_at(self, now: datetime) -> bool:
        return self.issued_at <= now < self.expires_at

    @property
    def is_operator_test(self) -> bool:
        return self.operator is not None


def mint_permit(
    *,
    allowed: bool,
    reasons: tuple[str, ...],
    phone_e164: str,
    channel: Channel,
    purpose: Purpose,
    now: datetime,
    campaign_id: int | None = None,
    lead_id: int | None = None,
    ttl_s: float = DEFAULT_PERMIT_TTL_S,
) -> Permit:
    """Turn an allowing verdict into a permit; a refusing one raises `PermitError`."""
    if not allowed:
        raise PermitError(f"verdict refuses {phone_e164}: {'; '.join(reasons)}")
    return Permit(
        phone_e164=phone_e164,
        channel=channel,
        purpose=purpose,
        reasons=reasons,
        issued_at=now,
        expires_at=now + timedelta(seconds=ttl_s),
        campaign_id=campaign_id,
        lead_id=lead_id,
        _token=_MINT,
    )


def mint_operator_test_permit(
    *, phone_e164: str, channel: Channel, operator: str, now: datetime, ttl_s: float = 300.0
) -> Permit:
    """A permit for an operator's test call or SMS; never for campaign traffic. Callers audit it."""
    if not operator:
        raise PermitError("an operator-test permit names the operator")
    return Permit(
        phone_e164=phone_e164,
        channel=channel,
        purpose=Purpose.INFORMATIONAL,
        reasons=(f"{OPERATOR_TEST_RULE}: test by operator {operator}",),
        issued_at=now,
        expires_at=now + timedelta(seconds=ttl_s),
        operator=operator,
        _token=_MINT,
    )


def mint_opt_out_confirmation_permit(*, phone_e164: str, keyword: str, now: datetime) -> Permit:
    """A permit for the single informational SMS confirming an opt-out. Callers audit it."""
    reason = f"{OPT_OUT_CONFIRMATION_RULE}: confirms opt-out keyword {keyword!r}; no other content"
    return Permit(
        phone_e164=phone_e164,
        channel=Channel.SMS,
        purpose=Purpose.INFORMATIONAL,
        reasons=(reason,),
        issued_at=now,
        expires_at=now + timedelta(seconds=OPT_OUT_CONFIRMATION_TTL_S),
        _token=_MINT,
    )
