"""Small rule functions: each reads facts and rule-set data and says pass or refuse, with a reason.

Rules that time alone can lift (windows, caps, spacing, cool-downs, expiring DNC entries) are
`Timed` checks with `first_ok(ts)`: the first instant >= ts at which that rule alone passes.
Everything else refuses until the facts change (DNC, consent, prohibitions, campaign set-up).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Protocol

from compliance.facts import Cap, ConsentRecord, ContactFacts, DncHit
from compliance.rulesets import RuleSet
from compliance.schedule import (
    Schedule,
    ZoneClock,
    first_common_open,
    fmt_hhmm,
    fmt_hours,
)
from compliance.verdict import Reason
from config.vocabulary import Channel, Purpose

HORIZON_S = 400 * 86_400.0


class Timed(Protocol):
    def first_ok(self, ts: float) -> float | None: ...


class Tally:
    """What the rules said so far: refusals, passes, timed checks, and whether time can help."""

    __slots__ = ("fails", "open_until", "passes", "permanent", "timed")

    def __init__(self) -> None:
        self.fails: list[Reason] = []
        self.passes: list[Reason] = []
        self.timed: list[Timed] = []
        self.permanent = False
        self.open_until = 0.0

    def refuse(self, rule: str, detail: str) -> None:
        """A refusal that waiting does not lift."""
        self.fails.append(Reason(rule, detail))
        self.permanent = True


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


class After:
    """Passes from `at_ts` on (cool-downs, expiring DNC entries)."""

    __slots__ = ("at_ts",)

    def __init__(self, at_ts: float) -> None:
        self.at_ts = at_ts

    def first_ok(self, ts: float) -> float | None:
        return ts if ts >= self.at_ts else self.at_ts


class CapCheck:
    """At most `max_attempts` per rolling window for each cap, and a minimum gap."""

    __slots__ = ("caps", "min_gap_s", "times")

    def __init__(self, times: tuple[float, ...], caps: Sequence[Cap], min_gap_s: float) -> None:
        self.times = times
        self.caps = caps
        self.min_gap_s = min_gap_s

    def first_ok(self, ts: float) -> float | None:
        times = self.times
        hi = bisect_right(times, ts)
        first = ts
        if self.min_gap_s > 0 and hi:
            first = max(first, times[hi - 1] + self.min_gap_s)
        for cap in self.caps:
            if cap.max_attempts <= 0:
                return None
            if hi - bisect_right(times, ts - cap.window_s) >= cap.max_attempts:
                first = max(first, times[hi - cap.max_attempts] + cap.window_s)
        return first

    def count(self, ts: float, window_s: float) -> int:
        return bisect_right(self.times, ts) - bisect_right(self.times, ts - window_s)


def check_caps(
    tally: Tally,
    rule: str,
    what: str,
    times: tuple[float, ...],
    caps: Sequence[Cap],
    min_gap_s: float,
    ts: float,
) -> None:
    """Caps over rolling windows on one attempt history (`what`: 'lead', 'number', 'debtor')."""
    check = CapCheck(times, caps, min_gap_s)
    tally.timed.append(check)
    for cap in caps:
        used = check.count(ts, cap.window_s)
        if used >= cap.max_attempts:
            detail = (
                f"{used} attempts to the {what} in the last {cap.name} (max {cap.max_attempts})"
            )
            tally.fails.append(Reason(rule, detail))
    if min_gap_s > 0 and times:
        last = times[bisect_right(times, ts) - 1] if bisect_right(times, ts) else None
        if last is not None and ts < last + min_gap_s:
            detail = f"last attempt {ts - last:.0f} s ago; minimum gap {min_gap_s:.0f} s"
            tally.fails.append(Reason(rule, detail))


def check_cooldown(
    tally: Tally, rule: str, last: datetime | None, cooldown_s: float, ts: float, why: str
) -> None:
    """Refuse within `cooldown_s` after the last abandon or AMD machine result."""
    if last is None or cooldown_s <= 0:
        return
    until = last.timestamp() + cooldown_s
    tally.timed.append(After(until))
    if ts < until:
        detail = f"{why} at {iso(last.timestamp())}; cool-down {cooldown_s / 3600:g} h"
        if not rule.startswith("campaign."):
            detail += " unless a live agent is guaranteed (preview/progressive)"
        tally.fails.append(Reason(rule, detail))


def check_dnc(
    tally: Tally,
    hits: Sequence[DncHit],
    rs: RuleSet,
    channel: Channel,
    purpose: Purpose,
    now: datetime,
) -> None:
    """Refuse on any DNC entry covering the channel (registry entries: the registry's purposes)."""
    latest_expiry = 0.0
    for hit in hits:
        if not hit.covers(channel) or (hit.registry and purpose not in rs.registry_purposes):
            continue
        if hit.expires_at is not None and hit.expires_at <= now:
            continue
        kind = "registry" if hit.registry else hit.scope.value
        owner = f" {hit.owner}" if hit.owner else ""
        rule = "dnc.registry" if hit.registry else f"dnc.{hit.scope.value}"
        if hit.expires_at is None:
            tally.refuse(
                rule, f"on the {kind}{owner} DNC list for {hit.channel.value} ({hit.source})"
            )
        else:
            latest_expiry = max(latest_expiry, hit.expires_at.timestamp())
            until = iso(hit.expires_at.timestamp())
            tally.fails.append(Reason(rule, f"on the {kind}{owner} DNC list until {until}"))
    if latest_expiry:
        tally.timed.append(After(latest_expiry))


def check_registry_age(
    tally: Tally, rs: RuleSet, purpose: Purpose, as_of: date | None, today: date
) -> None:
    """Under `us`, refuse marketing when the national registry copy is missing or stale."""
    if rs.registry_max_age_days is None or purpose not in rs.registry_purposes:
        return
    rule = f"{rs.name.value}.registry_age"
    if as_of is None:
        tally.refuse(rule, "no national DNC registry copy loaded")
        return
    age = (today - as_of).days
    if age > rs.registry_max_age_days:
        tally.refuse(
            rule,
            f"registry copy as of {as_of.isoformat()} is {age} days old "
            f"(max {rs.registry_max_age_days})",
        )


def active_consent(
    records: Sequence[ConsentRecord], channel: Channel, purpose: Purpose, now: datetime
) -> ConsentRecord | None:
    for record in records:
        if record.channel is channel and record.purpose is purpose and record.active_at(now):
            return record
    return None


def check_consent(
    tally: Tally,
    facts: ContactFacts,
    rs: RuleSet,
    channel: Channel,
    purpose: Purpose,
    now: datetime,
) -> None:
    """Consent where the rule set requires it; under `eu` an objection refuses all marketing."""
    if rs.objection_is_dnc and purpose is Purpose.MARKETING:
        for objection in facts.consents:
            revoked = objection.revoked_at
            if objection.purpose is Purpose.MARKETING and revoked is not None and revoked <= now:
                when = iso(revoked.timestamp())
                tally.refuse("eu.objection", f"objected to marketing at {when} (GDPR art. 21(3))")
                return
    for rule in rs.consent:
        if channel not in rule.channels or purpose not in rule.purposes:
            continue
        record = active_consent(facts.consents, channel, purpose, now)
        if record is None:
            what = f"{channel.value} {purpose.value}"
            tally.refuse(rule.rule, f"no active consent for {what} ({rule.source})")
        else:
            given = iso(record.given_at.timestamp())
            tally.passes.append(Reason(rule.rule, f"consent given {given} ({record.source})"))


class WindowCheck:
    """Every clock open at once: each schedule on each zone considered."""

    __slots__ = ("clocks",)

    def __init__(self, clocks: Sequence[ZoneClock]) -> None:
        self.clocks = clocks

    def first_ok(self, ts: float) -> float | None:
        return first_common_open(self.clocks, ts, HORIZON_S)


def explain_closed(clock: ZoneClock, ts: float) -> str:
    """Why a schedule is closed at `ts` on this clock, with the figure that decided."""
    local = datetime.fromtimestamp(ts, clock.tz)
    hours, why = clock.hours_on(local.date())
    if why is not None and not hours:
        return why
    if not hours:
        return f"{local.strftime('%A')} {local.date().isoformat()} in {clock.zone}: closed"
    minute = local.hour * 60 + local.minute
    shown = f"{fmt_hhmm(minute)} {clock.zone}"
    if minute < hours[0][0]:
        detail = f"{shown} is before {fmt_hhmm(hours[0][0])}"
    elif minute >= hours[-1][1]:
        word = "after" if minute > hours[-1][1] else "not before"
        detail = f"{shown} is {word} {fmt_hhmm(hours[-1][1])}"
    else:
        detail = f"{shown} is outside {fmt_hours(hours)}"
    return f"{detail} ({why})" if why else detail


def explain_open(schedule: Schedule, clocks: Sequence[ZoneClock], ts: float) -> str:
    """'14:05 America/Chicago, 15:05 America/New_York inside 08:00–21:00'."""
    parts = []
    label = ""
    for clock in clocks:
        local = datetime.fromtimestamp(ts, clock.tz)
        parts.append(f"{local.hour:02d}:{local.minute:02d} {clock.zone}")
        label = label or clock.hours_label(local.date())
    return f"{', '.join(parts)} inside {label or fmt_hours(schedule.weekly[0])}"
