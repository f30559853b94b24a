"""A campaign row's compliance settings turned into `CampaignRules` (pure: no IO).

The campaign's `schedule` JSON is its own window; its `settings` JSON carries caps and
cool-downs under a `compliance` key; the ring timeout is `settings.ring_timeout_s` (or
`no_answer_timeout_s`). Shapes, all optional:

    schedule = {"days": ["mon", ..., "fri"], "start": "09:00", "end": "20:00",
                "holidays": true | "US" | {"country": "US", "subdiv": "CA"},
                "closed_dates": ["2025-12-24"], "zone": "America/New_York"}
    settings = {"ring_timeout_s": 25,
                "compliance": {"lead_caps": [{"max_attempts": 3, "window_s": 86400}],
                               "number_caps": [...], "min_gap_s": 3600,
                               "abandon_cooldown_s": 0, "machine_cooldown_s": 0,
                               "us_unknown_state": "strictest" | "federal"}}

An empty schedule adds no campaign window. Bad values raise `CampaignSettingsError` naming the
key (the gate refuses the contact with that reason).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from compliance.facts import CampaignRules, Cap, campaign_window
from compliance.schedule import Schedule
from config.vocabulary import DialMode, RuleSetName

DEFAULT_NO_ANSWER_TIMEOUT_S = 20.0
ALL_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class CampaignSettingsError(ValueError):
    """A campaign's schedule or compliance settings cannot be read; the message names the key."""


@dataclass(frozen=True)
class CampaignRow:
    """The campaign columns compliance reads."""

    id: int
    rule_set: RuleSetName | None
    mode: DialMode
    caller_id: str | None
    safe_harbour_message: str | None
    default_country: str
    schedule: Mapping[str, Any]
    settings: Mapping[str, Any]


def _number(settings: Mapping[str, Any], key: str, default: float) -> float:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise CampaignSettingsError(f"settings.compliance.{key}: {value!r} is not seconds >= 0")
    return float(value)


def _caps(settings: Mapping[str, Any], key: str) -> tuple[Cap, ...]:
    raw = settings.get(key, [])
    if not isinstance(raw, list):
        raise CampaignSettingsError(f"settings.compliance.{key}: must be a list")
    caps: list[Cap] = []
    for item in raw:
        try:
            caps.append(Cap(int(item["max_attempts"]), float(item["window_s"])))
        except (KeyError, TypeError, ValueError):
            raise CampaignSettingsError(
                f"settings.compliance.{key}: {item!r} needs max_attempts and window_s"
            ) from None
    return tuple(caps)


def _holidays(value: object, default_country: str) -> tuple[str | None, str | None]:
    if value in (None, False):
        return None, None
    if value is True:
        return default_country, None
    if isinstance(value, str):
        return value.upper(), None
    if isinstance(value, Mapping) and isinstance(value.get("country"), str):
        subdiv = value.get("subdiv")
        return str(value["country"]).upper(), str(subdiv) if subdiv else None
    raise CampaignSettingsError(f"schedule.holidays: {value!r} is not true, a country or a map")


def campaign_schedule(schedule: Mapping[str, Any], default_country: str) -> Schedule | None:
    """The campaign's own window, or None when its schedule sets none."""
    if not schedule:
        return None
    try:
        days = tuple(str(d).lower()[:3] for d in schedule.get("days", ALL_DAYS))
        country, subdiv = _holidays(schedule.get("holidays"), default_country)
        closed = tuple(date.fromisoformat(str(d)) for d in schedule.get("closed_dates", ()))
        zone = schedule.get("zone")
        return campaign_window(
            days,
            str(schedule.get("start", "00:00")),
            str(schedule.get("end", "24:00")),
            holiday_country=country,
            holiday_subdiv=subdiv,
            closed_dates=closed,
            zone=str(zone) if zone else None,
        )
    except CampaignSettingsError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise CampaignSettingsError(f"schedule: {exc}") from None


def campaign_rules(row: CampaignRow) -> CampaignRules:
    """Everything the campaign adds to the law, as the pure core's `CampaignRules`."""
    settings = row.settings.get("compliance", {}) if row.settings else {}
    if not isinstance(settings, Mapping):
        raise CampaignSettingsError("settings.compliance: must be an object")
    timeout = row.settings.get("ring_timeout_s", row.settings.get("no_answer_timeout_s"))
    unknown_state = str(settings.get("us_unknown_state", "strictest"))
    if unknown_state not in ("strictest", "federal"):
        raise CampaignSettingsError("settings.compliance.us_unknown_state: strictest or federal")
    return CampaignRules(
        campaign_id=row.id,
        rule_set=row.rule_set,
        window=campaign_schedule(row.schedule, row.default_country),
        lead_caps=_caps(settings, "lead_caps"),
        number_caps=_caps(settings, "number_caps"),
        min_gap_s=_number(settings, "min_gap_s", 0.0),
        abandon_cooldown_s=_number(settings, "abandon_cooldown_s", 0.0),
        machine_cooldown_s=_number(settings, "machine_cooldown_s", 0.0),
        dial_mode=row.mode,
        no_answer_timeout_s=DEFAULT_NO_ANSWER_TIMEOUT_S if timeout is None else float(timeout),
        safe_harbour_message=row.safe_harbour_message,
        caller_id=row.caller_id,
        us_unknown_state=unknown_state,
    )


def lookback_s(rules: CampaignRules) -> float:
    """How far back the attempt history must reach for every cap and cool-down to be exact."""
    windows = [
        30 * 86_400.0,
        3 * 86_400.0,
        rules.min_gap_s,
        rules.abandon_cooldown_s,
        rules.machine_cooldown_s,
    ]
    windows += [cap.window_s for cap in (*rules.lead_caps, *rules.number_caps)]
    return min(max(windows), 400 * 86_400.0)
