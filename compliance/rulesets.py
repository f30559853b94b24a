"""The rule sets `us`, `ca`, `uk`, `ru`, `eu`, `none` as data: windows, consent, caps, cool-downs.

Each entry names its rule and cites its source; the small rule functions in compliance.rules
and the verdict in compliance.engine read only this data. "House" marks a product default where
the law sets no figure (quiet hours for purposes a statute does not cover, abandon caps where none
is legislated). A ✱ marks a figure known from a secondary source only (../shared/COMPLIANCE.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from compliance.facts import DAY_S, MONTH_S, WEEK_S, Cap
from compliance.schedule import Hours, Schedule, span, weekly_hours
from config.vocabulary import Channel, DialMode, Purpose, RuleSetName

ALL_PURPOSES = frozenset(Purpose)
ALL_CHANNELS = frozenset(Channel)
VOICE = frozenset({Channel.CALL, Channel.AUTOMATED})
MARKETING = frozenset({Purpose.MARKETING})
AUTO_DIAL_MODES = frozenset({DialMode.PROGRESSIVE, DialMode.POWER, DialMode.PREDICTIVE})
PACED_MODES = frozenset({DialMode.POWER, DialMode.PREDICTIVE})

CAMPAIGN_TO_DATE = "campaign_to_date"
PERIOD_30D = "period_30d"
ROLLING_30D = "rolling_30d"
ROLLING_24H = "rolling_24h"


@dataclass(frozen=True)
class WindowRule:
    """A legal (or house) calling window for some purposes and channels, on the callee's clock."""

    schedule: Schedule
    purposes: frozenset[Purpose] = ALL_PURPOSES
    channels: frozenset[Channel] = ALL_CHANNELS
    countries: frozenset[str] | None = None  # None: every country of the rule set


@dataclass(frozen=True)
class ConsentRule:
    """Contact on these channels for these purposes needs an active consent record."""

    rule: str
    channels: frozenset[Channel]
    purposes: frozenset[Purpose]
    source: str


@dataclass(frozen=True)
class Prohibition:
    """Contact refused outright (no consent or timing lifts it)."""

    rule: str
    channels: frozenset[Channel]
    purposes: frozenset[Purpose]
    detail: str
    dial_modes: frozenset[DialMode] | None = None  # None: whatever the dial mode


@dataclass(frozen=True)
class CapRule:
    """Attempt caps over rolling windows, counted on the lead, the number or the debtor."""

    rule: str
    scope: str  # "lead" | "number" | "debtor"
    caps: tuple[Cap, ...]
    purposes: frozenset[Purpose]
    channels: frozenset[Channel]
    source: str
    countries: frozenset[str] | None = None


@dataclass(frozen=True)
class AbandonRegime:
    """Abandon cap (a fraction), the windows it is measured over, and the denominator."""

    cap: float
    windows: tuple[str, ...]
    ofcom_adjusted: bool
    source: str


@dataclass(frozen=True)
class RuleSet:
    """Everything one regime says, as data."""

    name: RuleSetName
    windows: tuple[WindowRule, ...] = ()
    consent: tuple[ConsentRule, ...] = ()
    prohibitions: tuple[Prohibition, ...] = ()
    caps: tuple[CapRule, ...] = ()
    abandon_cooldown_s: float = 0.0
    machine_cooldown_s: float = 0.0
    cooldown_source: str = ""
    registry_purposes: frozenset[Purpose] = MARKETING
    registry_max_age_days: int | None = None
    abandon: AbandonRegime = AbandonRegime(0.03, (CAMPAIGN_TO_DATE,), False, "house")
    safe_harbour_modes: frozenset[DialMode] = frozenset()
    min_no_answer_timeout_s: float = 15.0
    objection_is_dnc: bool = False
    us_states: bool = False


def _every_day(rule: str, hours: Hours, source: str) -> Schedule:
    return Schedule(rule=rule, weekly=weekly_hours(hours), source=source)


US = RuleSet(
    name=RuleSetName.US,
    windows=(
        WindowRule(
            _every_day(
                "us.calling_hours",
                span("08:00", "21:00"),
                "16 CFR 310.4(c); 47 CFR 64.1200(c)(1); 15 USC 1692c(a)(1) (collection); "
                "surveys and informational calls by house policy",
            )
        ),
    ),
    consent=(
        ConsentRule(
            "us.consent.sms_marketing",
            frozenset({Channel.SMS}),
            MARKETING,
            "47 CFR 64.1200(a)(2) (prior express written consent)",
        ),
        ConsentRule(
            "us.consent.automated",
            frozenset({Channel.AUTOMATED}),
            ALL_PURPOSES,
            "47 CFR 64.1200(a)(1)(iii), (a)(3) (prerecorded voice needs prior express consent)",
        ),
    ),
    registry_max_age_days=31,
    abandon=AbandonRegime(
        0.03, (PERIOD_30D, ROLLING_30D), False, "16 CFR 310.4(b)(4)(i); 47 CFR 64.1200(a)(7)"
    ),
    safe_harbour_modes=PACED_MODES,
    us_states=True,
)

CA = RuleSet(
    name=RuleSetName.CA,
    windows=(
        WindowRule(
            Schedule(
                rule="ca.calling_hours",
                weekly=weekly_hours(span("09:00", "21:30"), span("10:00", "18:00")),
                source="✱ CRTC Unsolicited Telecommunications Rules, Part III (Telemarketing)",
            )
        ),
    ),
    consent=(
        ConsentRule("ca.consent.sms_marketing", frozenset({Channel.SMS}), MARKETING, "CASL s. 6"),
        ConsentRule(
            "ca.consent.automated",
            frozenset({Channel.AUTOMATED}),
            ALL_PURPOSES,
            "CRTC Unsolicited Telecommunications Rules, Part IV (ADAD, express consent)",
        ),
    ),
    abandon=AbandonRegime(0.05, (ROLLING_30D,), False, "✱ CRTC UTRs Part III (5 %)"),
)

UK = RuleSet(
    name=RuleSetName.UK,
    windows=(
        WindowRule(
            _every_day(
                "uk.calling_hours",
                span("08:00", "21:00"),
                "industry practice (DMA code); Ofcom sets no statutory hours",
            )
        ),
    ),
    consent=(
        ConsentRule(
            "uk.consent.sms_marketing", frozenset({Channel.SMS}), MARKETING, "PECR reg. 22"
        ),
        ConsentRule(
            "uk.consent.automated", frozenset({Channel.AUTOMATED}), ALL_PURPOSES, "PECR reg. 19"
        ),
    ),
    abandon_cooldown_s=3 * DAY_S,
    machine_cooldown_s=DAY_S,
    cooldown_source="Ofcom persistent misuse policy (re-call within 72 h / 24 h: live agent only)",
    abandon=AbandonRegime(
        0.03, (ROLLING_24H,), True, "Ofcom persistent misuse policy (✱ 3 %/24 h)"
    ),
    safe_harbour_modes=PACED_MODES,
)

_RU_HOLIDAY_HOURS = span("09:00", "20:00")
RU = RuleSet(
    name=RuleSetName.RU,
    windows=(
        WindowRule(
            Schedule(
                rule="ru.230fz.hours",
                weekly=weekly_hours(span("08:00", "22:00"), _RU_HOLIDAY_HOURS),
                source="✱ 230-FZ art. 7(3): weekdays 08–22, weekends and holidays 09–20",
                holiday_hours=_RU_HOLIDAY_HOURS,
                holiday_country="RU",
            ),
            purposes=frozenset({Purpose.COLLECTION}),
        ),
        WindowRule(
            _every_day("ru.quiet_hours", span("08:00", "21:00"), "house policy"),
            purposes=ALL_PURPOSES - {Purpose.COLLECTION},
        ),
    ),
    consent=(
        ConsentRule("ru.38fz.consent", ALL_CHANNELS, MARKETING, "38-FZ art. 18(1) (prior consent)"),
    ),
    prohibitions=(
        Prohibition(
            "ru.38fz.automatic_dialling",
            frozenset({Channel.AUTOMATED}),
            MARKETING,
            "advertising without human participation is prohibited (38-FZ art. 18(2))",
        ),
        Prohibition(
            "ru.38fz.automatic_dialling",
            frozenset({Channel.CALL}),
            MARKETING,
            "advertising with automatic number dialling is prohibited (38-FZ art. 18(2)); "
            "use preview mode",
            dial_modes=AUTO_DIAL_MODES,
        ),
    ),
    caps=(
        CapRule(
            "ru.230fz.debtor_calls",
            "debtor",
            (Cap(1, DAY_S), Cap(2, WEEK_S), Cap(8, MONTH_S)),
            frozenset({Purpose.COLLECTION}),
            VOICE,
            "✱ 230-FZ art. 7(3): 1 a day, 2 a week, 8 a month",
        ),
        CapRule(
            "ru.230fz.debtor_messages",
            "debtor",
            (Cap(2, DAY_S), Cap(4, WEEK_S), Cap(16, MONTH_S)),
            frozenset({Purpose.COLLECTION}),
            frozenset({Channel.SMS}),
            "✱ 230-FZ art. 7(3): 2 a day, 4 a week, 16 a month",
        ),
    ),
    registry_purposes=frozenset(),
)

EU = RuleSet(
    name=RuleSetName.EU,
    windows=(
        WindowRule(_every_day("eu.quiet_hours", span("08:00", "21:00"), "house policy")),
        WindowRule(
            Schedule(
                rule="eu.fr.prospection_hours",
                weekly=weekly_hours(
                    ((10 * 60, 13 * 60), (14 * 60, 20 * 60)), saturday=(), sunday=()
                ),
                source="FR: Code de la consommation art. L223-1; décret n° 2022-1313 (2022-10-13)",
                holiday_hours=(),
                holiday_country="FR",
            ),
            purposes=MARKETING,
            countries=frozenset({"FR"}),
        ),
    ),
    consent=(
        ConsentRule(
            "eu.consent.automated",
            frozenset({Channel.AUTOMATED}),
            ALL_PURPOSES,
            "ePrivacy 2002/58 art. 13(1)",
        ),
        ConsentRule(
            "eu.consent.sms_marketing", frozenset({Channel.SMS}), MARKETING, "ePrivacy art. 13(1)"
        ),
    ),
    caps=(
        CapRule(
            "eu.fr.prospection_cap",
            "lead",
            (Cap(4, MONTH_S),),
            MARKETING,
            VOICE,
            "FR: décret n° 2022-1313 (at most 4 calls per 30 days)",
            countries=frozenset({"FR"}),
        ),
    ),
    objection_is_dnc=True,
)

NONE = RuleSet(name=RuleSetName.NONE, registry_purposes=frozenset())

RULE_SETS: dict[RuleSetName, RuleSet] = {r.name: r for r in (US, CA, UK, RU, EU, NONE)}


def rule_set(name: RuleSetName) -> RuleSet:
    return RULE_SETS[name]


def registry_age_days(as_of: date, today: date) -> int:
    return (today - as_of).days
