"""The facts a verdict is decided from: plain frozen values the stores gather and pass in (no IO).

`ContactFacts` describes one contact (number, place, zones, DNC hits, consent, attempt history,
cool-down facts) and carries the campaign's `CampaignRules` (rule set, windows, caps, dial mode).
Attempt histories are the ones relevant to caps, as UTC epoch seconds or datetimes, oldest first
or in any order; the adapters decide what counts (e.g. 230-FZ counts interactions with the debtor).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from compliance.schedule import Schedule, days_hours, span
from config.vocabulary import Channel, DialMode, DncChannel, DncScope, Purpose, RuleSetName

DAY_S = 86_400.0
WEEK_S = 7 * DAY_S
MONTH_S = 30 * DAY_S

LIVE_AGENT_MODES = frozenset({DialMode.PREVIEW, DialMode.PROGRESSIVE})


@dataclass(frozen=True, slots=True)
class AssumedZone:
    """A manager's audited decision to treat a list's or campaign's leads as being in `zone`."""

    zone: str
    set_by: str
    set_at: datetime | None = None
    scope: str = "campaign"  # "campaign" or "list"


@dataclass(frozen=True, slots=True)
class DncHit:
    """One DNC entry found for the number (the store's lookup result)."""

    scope: DncScope
    channel: DncChannel
    registry: bool = False  # a national registry copy (applies to the rule set's registry purposes)
    source: str = ""
    expires_at: datetime | None = None
    owner: str | None = None  # tenant or campaign name for scoped entries

    def covers(self, channel: Channel) -> bool:
        if self.channel is DncChannel.ALL:
            return True
        if self.channel is DncChannel.SMS:
            return channel is Channel.SMS
        return channel is not Channel.SMS


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """Consent to be contacted on `channel` for `purpose`, with its source and revocation."""

    channel: Channel
    purpose: Purpose
    given_at: datetime
    revoked_at: datetime | None = None
    source: str = ""

    def active_at(self, now: datetime) -> bool:
        return self.given_at <= now and (self.revoked_at is None or now < self.revoked_at)


@dataclass(frozen=True, slots=True)
class Cap:
    """At most `max_attempts` attempts in any rolling `window_s` seconds."""

    max_attempts: int
    window_s: float
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or _window_label(self.window_s)


def _window_label(window_s: float) -> str:
    names = {DAY_S: "24 h", WEEK_S: "7 days", MONTH_S: "30 days"}
    return names.get(window_s, f"{window_s:g} s")


@dataclass(frozen=True, slots=True)
class Attempts:
    """Attempt times (UTC epoch seconds) relevant to caps: per lead, per number, per debtor."""

    lead: tuple[float, ...] = ()
    number: tuple[float, ...] = ()
    debtor: tuple[float, ...] = ()

    @staticmethod
    def of(
        lead: Sequence[datetime] = (),
        number: Sequence[datetime] = (),
        debtor: Sequence[datetime] = (),
    ) -> Attempts:
        return Attempts(
            tuple(sorted(t.timestamp() for t in lead)),
            tuple(sorted(t.timestamp() for t in number)),
            tuple(sorted(t.timestamp() for t in debtor)),
        )


NO_ATTEMPTS = Attempts()


def campaign_window(
    days: Sequence[str] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
    start: str = "00:00",
    end: str = "24:00",
    *,
    holiday_country: str | None = None,
    holiday_subdiv: str | None = None,
    closed_dates: Sequence[date] = (),
    zone: str | None = None,
) -> Schedule:
    """A campaign's own window: days and hours, closed on holidays of a country and on dates.

    With `zone=None` the hours run on the callee's clock, else on the named zone's clock.
    """
    return Schedule(
        rule="campaign.window",
        weekly=days_hours(days, span(start, end)),
        source="campaign settings",
        holiday_hours=() if holiday_country else None,
        holiday_country=holiday_country,
        holiday_subdiv=holiday_subdiv,
        closed_dates=frozenset(closed_dates),
        zone=zone,
    )


@dataclass(frozen=True, eq=False)
class CampaignRules:
    """What a campaign adds to the law: its rule set, window, caps, cool-downs and dial set-up."""

    campaign_id: int | None = None
    rule_set: RuleSetName | None = None  # None: the lead's country decides
    window: Schedule | None = None
    lead_caps: tuple[Cap, ...] = ()
    number_caps: tuple[Cap, ...] = ()
    min_gap_s: float = 0.0
    abandon_cooldown_s: float = 0.0
    machine_cooldown_s: float = 0.0
    dial_mode: DialMode = DialMode.PROGRESSIVE
    no_answer_timeout_s: float = 20.0
    safe_harbour_message: str | None = None
    caller_id: str | None = None
    us_unknown_state: str = "strictest"  # or "federal": which state rules apply without a state
    check_setup: bool = True  # False only for a bare-number check with no campaign (CLI)

    @property
    def live_agent_guaranteed(self) -> bool:
        """Preview and progressive reserve an agent before dialing; power/predictive do not."""
        return self.dial_mode in LIVE_AGENT_MODES


@dataclass(frozen=True, slots=True)
class AbandonState:
    """The campaign's abandon ledger answer at decision time (see compliance.ledger)."""

    budget: int
    window: str
    rate: float
    cap: float


DEFAULT_CAMPAIGN = CampaignRules()


@dataclass(frozen=True, slots=True)
class ContactFacts:
    """Everything known about one contact that a verdict may depend on."""

    phone_e164: str
    country: str | None = None
    campaign: CampaignRules = DEFAULT_CAMPAIGN
    region: str | None = None  # US state / CA province / RU subject code
    postal_code: str | None = None
    zone_candidates: tuple[str, ...] = ()
    explicit_zone: str | None = None  # from a zone column, ZIP, state or region (narrowed)
    assumed_zone: AssumedZone | None = None
    dnc_hits: tuple[DncHit, ...] = ()
    consents: tuple[ConsentRecord, ...] = ()
    attempts: Attempts = field(default=NO_ATTEMPTS)
    last_abandon_at: datetime | None = None
    last_machine_at: datetime | None = None
    registry_as_of: date | None = None
    abandon: AbandonState | None = None
    lead_id: int | None = None
