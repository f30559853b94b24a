"""The shared vocabulary of ../shared/GLOSSARY.md: one enum or constant per word, defined once.

Every package imports these names from here; SQL CHECK constraints list the same values and a test
keeps the two in step.
"""

from __future__ import annotations

from enum import StrEnum

DEFAULT_TENANT = "default"


class CallOutcome(StrEnum):
    """How one call attempt ended (SIP, engine, pacing events, CDR rows, reports)."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    REJECTED = "rejected"
    UNAVAILABLE = "unavailable"
    INVALID_NUMBER = "invalid-number"
    FAILED = "failed"
    ABANDONED = "abandoned"
    INTERRUPTED = "interrupted"


class AmdResult(StrEnum):
    """Answering-machine detection's classification of an answered call."""

    HUMAN = "human"
    MACHINE = "machine"
    UNKNOWN = "unknown"


class SmsStatus(StrEnum):
    """Lifecycle of one SMS message (or one of its parts)."""

    QUEUED = "queued"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DELIVERED = "delivered"
    UNDELIVERABLE = "undeliverable"
    EXPIRED = "expired"
    REJECTED = "rejected"
    FAILED = "failed"


class SmsEncoding(StrEnum):
    GSM7 = "gsm7"
    UCS2 = "ucs2"


class AgentState(StrEnum):
    LOGGED_OUT = "logged-out"
    READY = "ready"
    RESERVED = "reserved"
    ON_CALL = "on-call"
    WRAP_UP = "wrap-up"
    PAUSED = "paused"


class Channel(StrEnum):
    """How a contact is reached: `call` has an agent, `automated` has none."""

    CALL = "call"
    AUTOMATED = "automated"
    SMS = "sms"


class Purpose(StrEnum):
    MARKETING = "marketing"
    SURVEY = "survey"
    INFORMATIONAL = "informational"
    COLLECTION = "collection"


class RuleSetName(StrEnum):
    US = "us"
    CA = "ca"
    UK = "uk"
    RU = "ru"
    EU = "eu"
    NONE = "none"


class DncScope(StrEnum):
    GLOBAL = "global"
    TENANT = "tenant"
    CAMPAIGN = "campaign"


class DncChannel(StrEnum):
    CALL = "call"
    SMS = "sms"
    ALL = "all"


class DialMode(StrEnum):
    """Pacing modes a campaign can run in."""

    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    POWER = "power"
    PREDICTIVE = "predictive"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    ARCHIVED = "archived"


class CampaignChannel(StrEnum):
    """What a campaign sends: voice calls or text messages."""

    VOICE = "voice"
    SMS = "sms"


class LeadStatus(StrEnum):
    """Where a lead stands in its campaign."""

    NEW = "new"
    LEASED = "leased"
    IN_PROGRESS = "in-progress"
    RETRY = "retry"
    CALLBACK = "callback"
    DONE = "done"
    DNC = "dnc"
    INVALID = "invalid"


class DispositionCategory(StrEnum):
    FINAL = "final"
    RETRY = "retry"
    CALLBACK = "callback"
    DNC = "dnc"
    WARM_LEAD = "warm-lead"
    SALE = "sale"


class Role(StrEnum):
    """What a user or API key may do."""

    ADMIN = "admin"
    MANAGER = "manager"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
    SURVEY_CLIENT = "survey-client"


class TicketStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED = "closed"


EU_MEMBER_STATES = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    }
)


def rule_set_for_country(country: str | None) -> RuleSetName:
    """The rule set a lead follows by default, from its ISO 3166 alpha-2 country."""
    if not country:
        return RuleSetName.NONE
    code = country.upper()
    direct = {
        "US": RuleSetName.US,
        "CA": RuleSetName.CA,
        "GB": RuleSetName.UK,
        "RU": RuleSetName.RU,
    }
    if code in direct:
        return direct[code]
    return RuleSetName.EU if code in EU_MEMBER_STATES else RuleSetName.NONE
