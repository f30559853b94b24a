"""Campaign values and their validation (pure: no IO)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import phonenumbers

from config.vocabulary import CampaignChannel, CampaignStatus, DialMode, Purpose, RuleSetName


class ValidationError(ValueError):
    """Input that cannot be accepted; `field` names what is wrong."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class Campaign:
    id: int
    tenant_id: int
    name: str
    channel: CampaignChannel
    mode: DialMode
    status: CampaignStatus
    purpose: Purpose
    rule_set: RuleSetName | None
    default_country: str
    caller_id: str | None
    trunk_ids: tuple[int, ...]
    schedule: dict[str, Any]
    settings: dict[str, Any]
    assume_zone: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class CampaignDraft:
    """What a manager supplies to create a campaign (or the fields they change)."""

    name: str
    mode: DialMode = DialMode.PREDICTIVE
    channel: CampaignChannel = CampaignChannel.VOICE
    purpose: Purpose = Purpose.MARKETING
    rule_set: RuleSetName | None = None
    default_country: str = "US"
    caller_id: str | None = None
    schedule: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


NAME_PATTERN = re.compile(r"^[^\x00-\x1f]{1,200}$")


def parse_enum(enum_type: type[Any], field_name: str, value: object) -> Any:
    try:
        return enum_type(value)
    except ValueError:
        choices = ", ".join(m.value for m in enum_type)
        raise ValidationError(field_name, f"{value!r} is not one of {choices}") from None


def validate_name(name: str) -> str:
    cleaned = name.strip()
    if not NAME_PATTERN.match(cleaned):
        raise ValidationError("name", "must be 1-200 printable characters")
    return cleaned


def validate_country(country: str) -> str:
    code = country.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError("default_country", f"{country!r} is not an ISO 3166 alpha-2 region")
    return code


def validate_caller_id(caller_id: str | None, country: str) -> str | None:
    if caller_id is None or caller_id == "":
        return None
    try:
        number = phonenumbers.parse(caller_id, country)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError("caller_id", f"{caller_id!r} is not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("caller_id", f"{caller_id!r} is not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_draft(draft: CampaignDraft) -> CampaignDraft:
    country = validate_country(draft.default_country)
    return CampaignDraft(
        name=validate_name(draft.name),
        mode=parse_enum(DialMode, "mode", draft.mode),
        channel=parse_enum(CampaignChannel, "channel", draft.channel),
        purpose=parse_enum(Purpose, "purpose", draft.purpose),
        rule_set=None
        if draft.rule_set is None
        else parse_enum(RuleSetName, "rule_set", draft.rule_set),
        default_country=country,
        caller_id=validate_caller_id(draft.caller_id, country),
        schedule=dict(draft.schedule),
        settings=dict(draft.settings),
    )
