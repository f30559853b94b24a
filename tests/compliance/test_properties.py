"""Hypothesis invariants: windows on the callee's clock, DNC, caps, exact next_allowed_at."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.engine import evaluate, rule_set_of
from compliance.facts import (
    DAY_S,
    WEEK_S,
    Attempts,
    CampaignRules,
    Cap,
    ContactFacts,
    DncHit,
    campaign_window,
)
from compliance.schedule import Schedule
from config.vocabulary import Channel, DialMode, DncChannel, DncScope, Purpose, RuleSetName
from tests.compliance.oracle import all_open, first_open_by_minutes

ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Paris",
    "Europe/Moscow",
    "Asia/Yekaterinburg",
    "Asia/Vladivostok",
    "Australia/Lord_Howe",
)
DST_DAYS = (date(2025, 3, 9), date(2025, 3, 30), date(2025, 10, 26), date(2025, 11, 2))
CALLER = "+12025550100"
AS_OF = date(2030, 1, 1)  # never stale in these tests (registry rules tested elsewhere)

instants = st.one_of(
    st.integers(
        int(datetime(2024, 1, 1, tzinfo=UTC).timestamp()),
        int(datetime(2026, 12, 31, tzinfo=UTC).timestamp()),
    ),
    st.builds(
        lambda d, s: int(datetime.combine(d, datetime.min.time(), UTC).timestamp()) + s,
        st.sampled_from(DST_DAYS),
        st.integers(-86_400, 2 * 86_400),
    ),
).map(lambda ts: datetime.fromtimestamp(ts - ts % 60, UTC))
rule_sets = st.sampled_from(list(RuleSetName))
purposes = st.sampled_from(list(Purpose))
windows = st.builds(
    lambda days, start, length: campaign_window(days, f"{start:02d}:00",
                                                f"{min(24, start + length):02d}:00"),
    st.lists(st.sampled_from(("mon", "tue", "wed", "thu", "fri", "sat", "sun")), min_size=1,
             unique=True),
    st.integers(0, 22),
    st.integers(1, 12),
)  # fmt: skip


def _facts(
    rs: RuleSetName, zones: list[str], window: Schedule | None, **kw: object
) -> ContactFacts:
    rules = CampaignRules(1, rs, window, caller_id=CALLER, dial_mode=DialMode.PREVIEW)
    return ContactFacts("+13125550123", "US", rules, region="FL", zone_candidates=tuple(zones),
                        registry_as_of=AS_OF, **kw)  # type: ignore[arg-type]  # fmt: skip


def _window_pairs(facts: ContactFacts, purpose: Purpose) -> list[tuple[Schedule, str]]:
    """Every (schedule, zone) the verdict must respect, rebuilt from the rule-set data."""
    from compliance.engine import _plan

    schedules, _ = _plan(facts, rule_set_of(facts), Channel.CALL, purpose)
    return [
        (s, z) for s in schedules for z in (facts.zone_candidates if s.zone is None else (s.zone,))
    ]


@settings(max_examples=150, deadline=None)
@given(
    rs=rule_sets,
    zones=st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True),
    window=st.none() | windows,
    purpose=purposes.filter(lambda p: p is not Purpose.MARKETING),
    now=instants,
)
def test_never_allowed_outside_the_callee_window_and_next_is_exact(
    rs: RuleSetName, zones: list[str], window: Schedule | None, purpose: Purpose, now: datetime
) -> None:
    facts = _facts(rs, zones, window)
    verdict = evaluate(facts, Channel.CALL, purpose, now)
    pairs = _window_pairs(facts, purpose)
    ts = now.timestamp()
    assert verdict.allowed == all_open(pairs, ts)
    if not verdict.allowed:
        horizon = ts + 3 * DAY_S
        want = first_open_by_minutes(pairs, ts, horizon)
        got = verdict.next_allowed_at
        if want is not None:
            assert got is not None and got.timestamp() == want
        else:
            assert got is None or got.timestamp() > horizon
        if got is not None:
            assert all_open(pairs, got.timestamp())
            assert evaluate(facts, Channel.CALL, purpose, got).allowed


dnc_hits = st.builds(
    DncHit,
    scope=st.sampled_from(list(DncScope)),
    channel=st.sampled_from(list(DncChannel)),
    registry=st.just(False),
    source=st.just("test"),
)


@settings(max_examples=150, deadline=None)
@given(
    rs=rule_sets,
    hit=dnc_hits,
    channel=st.sampled_from(list(Channel)),
    purpose=purposes,
    now=instants,
    expires_in_s=st.none() | st.integers(1, 10 * 86_400),
)
def test_never_allowed_for_a_dnc_number(
    rs: RuleSetName,
    hit: DncHit,
    channel: Channel,
    purpose: Purpose,
    now: datetime,
    expires_in_s: int | None,
) -> None:
    if expires_in_s is not None:
        hit = DncHit(
            hit.scope, hit.channel, False, hit.source, now + timedelta(seconds=expires_in_s)
        )
    facts = _facts(rs, ["America/Chicago"], None, dnc_hits=(hit,))
    verdict = evaluate(facts, channel, purpose, now)
    if hit.covers(channel):
        assert not verdict.allowed
        assert any(r.rule.startswith("dnc.") for r in verdict.reasons)
        if verdict.next_allowed_at is not None:
            assert hit.expires_at is not None and verdict.next_allowed_at >= hit.expires_at


@settings(max_examples=100, deadline=None)
@given(
    caps=st.lists(
        st.builds(Cap, st.integers(1, 4), st.sampled_from((3600.0, DAY_S, WEEK_S))),
        min_size=1,
        max_size=3,
    ),
    gap_s=st.sampled_from((0.0, 600.0, 7200.0)),
    steps_s=st.lists(st.integers(60, 40_000), min_size=5, max_size=40),
    follow_next=st.booleans(),
)
def test_caps_never_exceeded_and_next_allowed_is_allowed(
    caps: list[Cap], gap_s: float, steps_s: list[int], follow_next: bool
) -> None:
    rules = CampaignRules(1, RuleSetName.NONE, caller_id=CALLER, lead_caps=tuple(caps),
                          min_gap_s=gap_s)  # fmt: skip
    t = datetime(2025, 6, 1, tzinfo=UTC)
    placed: list[datetime] = []
    for step in steps_s:
        facts = ContactFacts("+13125550123", "US", rules, attempts=Attempts.of(lead=placed))
        verdict = evaluate(facts, Channel.CALL, Purpose.SURVEY, t)
        if verdict.allowed:
            placed.append(t)
        elif follow_next and verdict.next_allowed_at is not None:
            t = verdict.next_allowed_at
            assert evaluate(facts, Channel.CALL, Purpose.SURVEY, t).allowed
            placed.append(t)
        t += timedelta(seconds=step)
    times = [p.timestamp() for p in placed]
    for cap in caps:
        for end in times:
            in_window = [x for x in times if end - cap.window_s < x <= end]
            assert len(in_window) <= cap.max_attempts
    for a, b in itertools.pairwise(times):
        assert b - a >= gap_s


@settings(max_examples=60, deadline=None)
@given(steps_h=st.lists(st.integers(1, 60), min_size=3, max_size=25))
def test_ru_debtor_limits_hold_over_rolling_windows(steps_h: list[int]) -> None:
    rules = CampaignRules(3, RuleSetName.RU, caller_id="+74950000000",
                          dial_mode=DialMode.PROGRESSIVE)  # fmt: skip
    t = datetime(2025, 6, 2, 6, 0, tzinfo=UTC)
    placed: list[datetime] = []
    for step in steps_h:
        facts = ContactFacts("+79161234567", "RU", rules, zone_candidates=("Europe/Moscow",),
                             attempts=Attempts.of(debtor=placed))  # fmt: skip
        verdict = evaluate(facts, Channel.CALL, Purpose.COLLECTION, t)
        if verdict.allowed:
            placed.append(t)
        t += timedelta(hours=step)
    times = [p.timestamp() for p in placed]
    for limit, window in ((1, DAY_S), (2, WEEK_S), (8, 30 * DAY_S)):
        for end in times:
            assert sum(1 for x in times if end - window < x <= end) <= limit
