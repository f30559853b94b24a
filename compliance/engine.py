"""`evaluate(facts, channel, purpose, now) -> Verdict`: the pure compliance decision for a contact.

No IO and no clock: every fact is passed in, `now` is tz-aware. The verdict lists the reasons of
every rule that refused (or, when allowed, the rules that held) and computes `next_allowed_at`
exactly: the first instant at which every time-bound rule (windows on every zone considered,
caps, spacing, cool-downs, expiring DNC entries) passes at once, or None when only new facts
(consent, a DNC removal, a fixed campaign, a fresh registry copy) can lift the refusal.
"""

from __future__ import annotations

from datetime import UTC, datetime

from compliance.campaign import campaign_problems
from compliance.facts import DAY_S, CampaignRules, Cap, ContactFacts
from compliance.rules import (
    HORIZON_S,
    CapCheck,
    Tally,
    WindowCheck,
    check_caps,
    check_consent,
    check_cooldown,
    check_dnc,
    check_registry_age,
    explain_closed,
    explain_open,
)
from compliance.rulesets import PACED_MODES, RuleSet, rule_set
from compliance.schedule import Schedule, ZoneClock, clock_for
from compliance.usstates import StateRule, state_for_zip, state_schedule
from compliance.verdict import Reason, Verdict
from config.vocabulary import Channel, Purpose, RuleSetName, rule_set_for_country

_PROBLEMS: dict[tuple[int, RuleSetName, Channel], tuple[CampaignRules, tuple[Reason, ...]]] = {}
MAX_FIXED_POINT_STEPS = 256


def rule_set_of(facts: ContactFacts) -> RuleSet:
    """The campaign's named rule set, else the one the lead's country maps to."""
    name = facts.campaign.rule_set or rule_set_for_country(facts.country)
    return rule_set(name)


def _problems(rules: CampaignRules, rs: RuleSet, channel: Channel) -> tuple[Reason, ...]:
    if not rules.check_setup:
        return ()
    key = (id(rules), rs.name, channel)
    cached = _PROBLEMS.get(key)
    if cached is None or cached[0] is not rules:
        if len(_PROBLEMS) > 4096:
            _PROBLEMS.clear()
        cached = (rules, campaign_problems(rules, rs, channel))
        _PROBLEMS[key] = cached
    return cached[1]


def us_state(facts: ContactFacts) -> str | None:
    if facts.region and len(facts.region) == 2:
        return facts.region.upper()
    if facts.postal_code:
        return state_for_zip(facts.postal_code)
    return None


_Plan = tuple[tuple[Schedule, ...], StateRule | None]
_PLANS: dict[tuple[int, RuleSetName, Channel, Purpose, str, str | None], tuple[object, _Plan]] = {}
_Layout = tuple[tuple[ZoneClock, ...], tuple[tuple[Schedule, tuple[ZoneClock, ...]], ...]]
_LAYOUTS: dict[tuple[int, tuple[str, ...]], _Layout | None] = {}


def _plan(facts: ContactFacts, rs: RuleSet, channel: Channel, purpose: Purpose) -> _Plan:
    """The windows that apply (rule set's, US state's, campaign's) and the state row (cached)."""
    country = (facts.country or "").upper()
    state = us_state(facts) if rs.us_states and purpose is Purpose.MARKETING else None
    rules = facts.campaign
    key = (id(rules), rs.name, channel, purpose, country, state)
    cached = _PLANS.get(key)
    if cached is not None and cached[0] is rules:
        return cached[1]
    found = [
        w.schedule
        for w in rs.windows
        if purpose in w.purposes
        and channel in w.channels
        and (w.countries is None or country in w.countries)
    ]
    row: StateRule | None = None
    state_rules_apply = rs.us_states and purpose is Purpose.MARKETING
    if state_rules_apply and (state is not None or rules.us_unknown_state == "strictest"):
        override = state_schedule(state)
        if override is not None:
            row, schedule = override
            found.append(schedule)
    if rules.window is not None:
        found.append(rules.window)
    plan: _Plan = (tuple(found), row)
    if len(_PLANS) > 65_536:
        _PLANS.clear()
    _PLANS[key] = (rules, plan)
    return plan


def _layout(schedules: tuple[Schedule, ...], zones: tuple[str, ...]) -> _Layout | None:
    """Clocks for every (schedule, zone) pair; None when a zone is missing or unknown (cached)."""
    key = (id(schedules), zones)
    if key in _LAYOUTS:
        return _LAYOUTS[key]
    groups: list[tuple[Schedule, tuple[ZoneClock, ...]]] = []
    layout: _Layout | None = None
    for schedule in schedules:
        names = zones if schedule.zone is None else (schedule.zone,)
        clocks = tuple(c for z in names if (c := clock_for(schedule, z)) is not None)
        if not names or len(clocks) != len(names):
            break
        groups.append((schedule, clocks))
    else:
        layout = (tuple(c for _, cs in groups for c in cs), tuple(groups))
    if len(_LAYOUTS) > 65_536:
        _LAYOUTS.clear()
    _LAYOUTS[key] = layout
    return layout


def _zones(facts: ContactFacts) -> tuple[tuple[str, ...], Reason | None]:
    """Zones considered: explicit/narrowed, else a manager's assumed zone, else every candidate."""
    if facts.explicit_zone:
        return (facts.explicit_zone,), None
    if facts.assumed_zone is not None:
        az = facts.assumed_zone
        when = f" at {az.set_at.astimezone(UTC).isoformat()}" if az.set_at else ""
        detail = f"{az.zone} assumed for this {az.scope} by {az.set_by}{when}"
        return (az.zone,), Reason("zone.assumed", detail)
    return facts.zone_candidates, None


def _check_windows(
    facts: ContactFacts, schedules: tuple[Schedule, ...], tally: Tally, ts: float
) -> tuple[tuple[str, ...], bool, Reason | None]:
    """Windows on every zone considered; returns the zones, whether any window applied, a note."""
    zones, assumed = _zones(facts)
    if not schedules:
        return zones, False, None
    layout = _layout(schedules, zones)
    if layout is None:
        tally.refuse(
            "zone.unknown",
            f"no usable time zone for {facts.phone_e164} (zones: {list(zones)}); narrow it with "
            "a zone, ZIP, state or region column, or set an assume-zone",
        )
        return zones, True, assumed
    clocks, groups = layout
    tally.timed.append(WindowCheck(clocks))
    open_until = HORIZON_S + ts
    for schedule, mine in groups:
        shut = False
        for clock in mine:
            found = clock.span_at(ts)
            if found is None or found[0] > ts:
                shut = True
                tally.fails.append(Reason(schedule.rule, explain_closed(clock, ts)))
            elif found[1] < open_until:
                open_until = found[1]
        if not shut:
            tally.passes.append(Reason(schedule.rule, explain_open(schedule, mine, ts)))
    tally.open_until = open_until
    return zones, True, assumed


def _check_static(
    facts: ContactFacts,
    rs: RuleSet,
    channel: Channel,
    purpose: Purpose,
    now: datetime,
    tally: Tally,
) -> None:
    """Rules only new facts can lift: set-up, prohibitions, registry age, DNC, consent, abandons."""
    for problem in _problems(facts.campaign, rs, channel):
        tally.refuse(problem.rule, problem.detail)
    mode = facts.campaign.dial_mode
    for ban in rs.prohibitions:
        modes_hit = ban.dial_modes is None or mode in ban.dial_modes
        if channel in ban.channels and purpose in ban.purposes and modes_hit:
            tally.refuse(ban.rule, ban.detail)
    check_registry_age(tally, rs, purpose, facts.registry_as_of, now.astimezone(UTC).date())
    check_dnc(tally, facts.dnc_hits, rs, channel, purpose, now)
    check_consent(tally, facts, rs, channel, purpose, now)
    abandon = facts.abandon
    paced = channel is Channel.CALL and mode in PACED_MODES
    if abandon is not None and paced and abandon.budget <= 0:
        tally.refuse(
            "abandon.cap",
            f"no abandon budget left on {abandon.window}: rate {abandon.rate:.4f} "
            f"against cap {abandon.cap:g}",
        )


def _check_history(
    facts: ContactFacts, rs: RuleSet, channel: Channel, purpose: Purpose, tally: Tally, ts: float
) -> None:
    """Caps and spacing (campaign and rule set) and cool-downs after abandons and AMD machines."""
    rules = facts.campaign
    attempts = facts.attempts
    if rules.lead_caps or rules.min_gap_s > 0:
        check_caps(tally, "campaign.lead_cap", "lead", attempts.lead, rules.lead_caps,
                   rules.min_gap_s, ts)  # fmt: skip
    if rules.number_caps:
        check_caps(tally, "campaign.number_cap", "number", attempts.number, rules.number_caps,
                   0.0, ts)  # fmt: skip
    country = (facts.country or "").upper()
    for cap in rs.caps:
        applies = purpose in cap.purposes and channel in cap.channels
        if applies and (cap.countries is None or country in cap.countries):
            times = getattr(attempts, cap.scope)
            check_caps(tally, cap.rule, cap.scope, times, cap.caps, 0.0, ts)
    if channel is Channel.SMS or (facts.last_abandon_at is None and facts.last_machine_at is None):
        return
    live_agent = channel is Channel.CALL and rules.live_agent_guaranteed
    prefix = rs.name.value
    for rule, last, law_s, own_s, why in (
        ("cooldown.abandon", facts.last_abandon_at, rs.abandon_cooldown_s,
         rules.abandon_cooldown_s, "abandoned call"),
        ("cooldown.amd_machine", facts.last_machine_at, rs.machine_cooldown_s,
         rules.machine_cooldown_s, "AMD machine result"),
    ):  # fmt: skip
        if not live_agent:
            check_cooldown(tally, f"{prefix}.{rule}", last, law_s, ts, why)
        check_cooldown(tally, f"campaign.{rule}", last, own_s, ts, why)


def next_allowed(tally: Tally, ts: float) -> float | None:
    """The first instant >= ts at which every timed check passes (fixed point), None if none."""
    if tally.permanent:
        return None
    t = ts
    for _ in range(MAX_FIXED_POINT_STEPS):
        latest = t
        for check in tally.timed:
            first = check.first_ok(t)
            if first is None:
                return None
            if first > latest:
                latest = first
        if latest == t:
            return t
        if latest > ts + HORIZON_S:
            return None
        t = latest
    return None


def evaluate(facts: ContactFacts, channel: Channel, purpose: Purpose, now: datetime) -> Verdict:
    """Decide whether `facts.phone_e164` may be contacted on `channel` for `purpose` at `now`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    rs = rule_set_of(facts)
    ts = now.timestamp()
    tally = Tally()
    _check_static(facts, rs, channel, purpose, now, tally)
    schedules, state_row = _plan(facts, rs, channel, purpose)
    zones, windowed, assumed = _check_windows(facts, schedules, tally, ts)
    _check_history(facts, rs, channel, purpose, tally, ts)
    if state_row is not None and state_row.max_calls_24h:
        caps = (Cap(state_row.max_calls_24h, DAY_S),)
        rule = state_row.rule.replace("calling_hours", "cap")
        check_caps(tally, rule, "lead", facts.attempts.lead, caps, 0.0, ts)
    allowed = not tally.fails
    reasons = tally.passes if allowed else tally.fails
    if assumed is not None:
        reasons.append(assumed)
    if allowed:
        if not reasons:
            reasons.append(Reason(f"{rs.name.value}.rules", "no rule restricts this contact"))
        until = tally.open_until if windowed and tally.open_until else None
        next_at: datetime | None = now.astimezone(UTC)
        until_at = None if until is None else datetime.fromtimestamp(until, UTC)
    else:
        first = next_allowed(tally, ts)
        next_at = None if first is None else datetime.fromtimestamp(first, UTC)
        until_at = None
    return Verdict(allowed, tuple(reasons), next_at, zones, facts.phone_e164, channel, purpose,
                   now, rs.name, until_at)  # fmt: skip


__all__ = ["CapCheck", "evaluate", "next_allowed", "rule_set_of"]
