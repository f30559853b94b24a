"""Worked cases for each rule set: the verdict, the reason's rule and figure, next_allowed_at."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from compliance.engine import evaluate
from compliance.facts import (
    DAY_S,
    AssumedZone,
    Attempts,
    CampaignRules,
    Cap,
    ConsentRecord,
    ContactFacts,
    DncHit,
    campaign_window,
)
from compliance.verdict import Verdict
from config.vocabulary import Channel, DialMode, DncChannel, DncScope, Purpose, RuleSetName

CHI = ZoneInfo("America/Chicago")
NYC = ZoneInfo("America/New_York")
MSK = ZoneInfo("Europe/Moscow")
PAR = ZoneInfo("Europe/Paris")
LON = ZoneInfo("Europe/London")
CALLER = "+12025550100"
US = CampaignRules(1, RuleSetName.US, caller_id=CALLER)
AS_OF = date(2025, 6, 1)


def us_lead(**kw: object) -> ContactFacts:
    base: dict[str, object] = {
        "phone_e164": "+13125550123",
        "country": "US",
        "campaign": US,
        "region": "IL",
        "zone_candidates": ("America/Chicago",),
        "registry_as_of": AS_OF,
    }
    base.update(kw)
    return ContactFacts(**base)  # type: ignore[arg-type]


def rules_of(verdict: Verdict) -> set[str]:
    return {r.rule for r in verdict.reasons}


def at(tz: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz)


# --- us ---------------------------------------------------------------------------------------


def test_us_after_nine_pm_names_the_rule_and_the_figure() -> None:
    v = evaluate(us_lead(), Channel.CALL, Purpose.MARKETING, at(CHI, 2025, 6, 10, 21, 5))
    assert not v.allowed
    assert [str(r) for r in v.reasons] == ["us.calling_hours: 21:05 America/Chicago is after 21:00"]
    assert v.next_allowed_at == at(CHI, 2025, 6, 11, 8, 0)
    assert v.zones == ("America/Chicago",)


def test_us_window_is_half_open() -> None:
    lead = us_lead()
    assert evaluate(lead, Channel.CALL, Purpose.MARKETING, at(CHI, 2025, 6, 10, 8, 0)).allowed
    closing = evaluate(lead, Channel.CALL, Purpose.MARKETING, at(CHI, 2025, 6, 10, 21, 0))
    assert not closing.allowed
    early = evaluate(lead, Channel.CALL, Purpose.MARKETING, at(CHI, 2025, 6, 10, 7, 59))
    assert early.reasons[0].detail == "07:59 America/Chicago is before 08:00"
    assert early.next_allowed_at == at(CHI, 2025, 6, 10, 8, 0)


def test_us_allowed_verdict_says_until_when() -> None:
    v = evaluate(us_lead(), Channel.CALL, Purpose.MARKETING, at(CHI, 2025, 6, 10, 12, 0))
    assert v.allowed
    assert v.allowed_until == at(CHI, 2025, 6, 10, 21, 0)
    assert "12:00 America/Chicago inside 08:00–21:00" in {r.detail for r in v.reasons}


def test_us_florida_state_override_from_zip() -> None:
    lead = us_lead(region=None, postal_code="33101", zone_candidates=("America/New_York",))
    v = evaluate(lead, Channel.CALL, Purpose.MARKETING, at(NYC, 2025, 6, 10, 20, 30))
    assert not v.allowed
    assert rules_of(v) == {"us.state.FL.calling_hours"}
    assert v.next_allowed_at == at(NYC, 2025, 6, 11, 8, 0)
    # the same hour is fine for a non-marketing purpose (state rows cover telemarketing)
    assert evaluate(lead, Channel.CALL, Purpose.SURVEY, at(NYC, 2025, 6, 10, 20, 30)).allowed


def test_us_florida_three_calls_in_24h() -> None:
    now = at(NYC, 2025, 6, 10, 15, 0)
    calls = [now - timedelta(hours=h) for h in (1, 2, 20)]
    lead = us_lead(region="FL", zone_candidates=("America/New_York",),
                   attempts=Attempts.of(lead=calls))  # fmt: skip
    v = evaluate(lead, Channel.CALL, Purpose.MARKETING, now)
    assert not v.allowed
    assert rules_of(v) == {"us.state.FL.cap"}
    assert v.next_allowed_at == (now - timedelta(hours=20) + timedelta(days=1)).astimezone(UTC)


def test_us_rhode_island_sunday_and_holiday() -> None:
    lead = us_lead(
        region="RI", zone_candidates=("America/New_York",), registry_as_of=date(2025, 8, 1)
    )
    sunday = evaluate(lead, Channel.CALL, Purpose.MARKETING, at(NYC, 2025, 8, 10, 12, 0))
    assert not sunday.allowed
    # Monday 2025-08-11 is Victory Day, a Rhode Island holiday → Tuesday 09:00
    assert sunday.next_allowed_at == at(NYC, 2025, 8, 12, 9, 0)
    holiday = evaluate(lead, Channel.CALL, Purpose.MARKETING, at(NYC, 2025, 8, 11, 12, 0))
    assert "holiday in US-RI (Victory Day)" in holiday.reasons[0].detail


def test_us_unknown_state_is_strictest_by_default() -> None:
    lead = us_lead(region=None)
    v = evaluate(lead, Channel.CALL, Purpose.MARKETING, at(CHI, 2025, 6, 10, 9, 30))
    assert not v.allowed and rules_of(v) == {"us.state.unknown.calling_hours"}
    federal = CampaignRules(1, RuleSetName.US, caller_id=CALLER, us_unknown_state="federal")
    lead2 = us_lead(region=None, campaign=federal)
    assert evaluate(lead2, Channel.CALL, Purpose.MARKETING, at(CHI, 2025, 6, 10, 9, 30)).allowed


def test_us_registry_age() -> None:
    now = at(CHI, 2025, 7, 2, 12, 0)  # 31 days after June 1st: still fine
    assert evaluate(us_lead(), Channel.CALL, Purpose.MARKETING, now).allowed
    stale = evaluate(us_lead(), Channel.CALL, Purpose.MARKETING, now + timedelta(days=1))
    assert not stale.allowed and stale.next_allowed_at is None
    assert stale.reasons[0].detail == "registry copy as of 2025-06-01 is 32 days old (max 31)"
    missing = evaluate(us_lead(registry_as_of=None), Channel.CALL, Purpose.MARKETING, now)
    assert rules_of(missing) == {"us.registry_age"}
    # the registry does not bind collection calls
    assert evaluate(us_lead(registry_as_of=None), Channel.CALL, Purpose.COLLECTION, now).allowed


def test_us_sms_marketing_needs_consent_and_revocation_binds() -> None:
    now = at(CHI, 2025, 6, 10, 12, 0)
    refused = evaluate(us_lead(), Channel.SMS, Purpose.MARKETING, now)
    assert rules_of(refused) == {"us.consent.sms_marketing"} and refused.next_allowed_at is None
    given = ConsentRecord(Channel.SMS, Purpose.MARKETING, now - timedelta(days=3), source="web")
    assert evaluate(us_lead(consents=(given,)), Channel.SMS, Purpose.MARKETING, now).allowed
    revoked = ConsentRecord(
        Channel.SMS, Purpose.MARKETING, given.given_at, now - timedelta(hours=1)
    )
    assert not evaluate(us_lead(consents=(revoked,)), Channel.SMS, Purpose.MARKETING, now).allowed


def test_us_dnc_registry_binds_marketing_only_list_binds_all() -> None:
    now = at(CHI, 2025, 6, 10, 12, 0)
    registry = DncHit(DncScope.GLOBAL, DncChannel.ALL, registry=True, source="FTC")
    lead = us_lead(dnc_hits=(registry,))
    assert rules_of(evaluate(lead, Channel.CALL, Purpose.MARKETING, now)) == {"dnc.registry"}
    assert evaluate(lead, Channel.CALL, Purpose.SURVEY, now).allowed
    tenant = DncHit(DncScope.TENANT, DncChannel.CALL, source="agent", owner="default")
    lead2 = us_lead(dnc_hits=(tenant,))
    assert not evaluate(lead2, Channel.CALL, Purpose.SURVEY, now).allowed
    assert evaluate(lead2, Channel.SMS, Purpose.INFORMATIONAL, now).allowed  # call-only entry


def test_expiring_dnc_entry_gives_its_expiry_inside_the_window() -> None:
    now = at(CHI, 2025, 6, 10, 12, 0)
    hit = DncHit(DncScope.CAMPAIGN, DncChannel.ALL, expires_at=at(CHI, 2025, 6, 10, 23, 0))
    v = evaluate(us_lead(dnc_hits=(hit,)), Channel.CALL, Purpose.SURVEY, now)
    assert not v.allowed
    assert v.next_allowed_at == at(CHI, 2025, 6, 11, 8, 0)  # after expiry, first window opening


def test_campaign_set_up_problems_refuse() -> None:
    bad = CampaignRules(1, RuleSetName.US, dial_mode=DialMode.PREDICTIVE, no_answer_timeout_s=12)
    v = evaluate(us_lead(campaign=bad), Channel.CALL, Purpose.SURVEY, at(CHI, 2025, 6, 10, 12, 0))
    assert rules_of(v) == {
        "campaign.no_answer_timeout",
        "campaign.safe_harbour",
        "campaign.caller_id",
    }
    assert v.next_allowed_at is None


def test_abandon_budget_spent_refuses_predictive_only() -> None:
    from compliance.facts import AbandonState

    now = at(CHI, 2025, 6, 10, 12, 0)
    spent = AbandonState(0, "rolling_30d", 0.031, 0.03)
    pred = CampaignRules(1, RuleSetName.US, caller_id=CALLER, dial_mode=DialMode.PREDICTIVE,
                         safe_harbour_message="sh.wav")  # fmt: skip
    v = evaluate(us_lead(campaign=pred, abandon=spent), Channel.CALL, Purpose.SURVEY, now)
    assert rules_of(v) == {"abandon.cap"}
    assert evaluate(us_lead(abandon=spent), Channel.CALL, Purpose.SURVEY, now).allowed


# --- ca ---------------------------------------------------------------------------------------


def test_ca_weekend_hours() -> None:
    tor = ZoneInfo("America/Toronto")
    lead = ContactFacts("+14165550123", "CA", CampaignRules(caller_id=CALLER),
                        zone_candidates=("America/Toronto",))  # fmt: skip
    sat = evaluate(lead, Channel.CALL, Purpose.MARKETING, at(tor, 2025, 6, 14, 9, 30))
    assert rules_of(sat) == {"ca.calling_hours"} and sat.rule_set is RuleSetName.CA
    assert sat.next_allowed_at == at(tor, 2025, 6, 14, 10, 0)
    assert evaluate(lead, Channel.CALL, Purpose.MARKETING, at(tor, 2025, 6, 16, 21, 15)).allowed


# --- uk ---------------------------------------------------------------------------------------


def _uk(mode: DialMode, **kw: object) -> ContactFacts:
    rules = CampaignRules(2, RuleSetName.UK, caller_id="+442079460000", dial_mode=mode,
                          safe_harbour_message="sh.wav")  # fmt: skip
    return ContactFacts("+447700900123", "GB", rules, zone_candidates=("Europe/London",), **kw)  # type: ignore[arg-type]


def test_uk_amd_machine_recall_within_24h_only_with_a_live_agent() -> None:
    now = at(LON, 2025, 6, 10, 12, 0)
    machine = now - timedelta(hours=2)
    v = evaluate(_uk(DialMode.PREDICTIVE, last_machine_at=machine), Channel.CALL,
                 Purpose.SURVEY, now)  # fmt: skip
    assert rules_of(v) == {"uk.cooldown.amd_machine"}
    assert v.next_allowed_at == (machine + timedelta(days=1)).astimezone(UTC)
    live = _uk(DialMode.PROGRESSIVE, last_machine_at=machine)
    assert evaluate(live, Channel.CALL, Purpose.SURVEY, now).allowed


def test_uk_abandon_cooldown_72h() -> None:
    now = at(LON, 2025, 6, 10, 12, 0)
    dropped = now - timedelta(hours=50)
    v = evaluate(_uk(DialMode.POWER, last_abandon_at=dropped), Channel.CALL, Purpose.SURVEY, now)
    assert rules_of(v) == {"uk.cooldown.abandon"}
    assert v.next_allowed_at == (dropped + timedelta(hours=72)).astimezone(UTC)


def test_uk_predictive_without_safe_harbour_refused() -> None:
    rules = CampaignRules(2, RuleSetName.UK, caller_id="+442079460000",
                          dial_mode=DialMode.PREDICTIVE)  # fmt: skip
    lead = ContactFacts("+447700900123", "GB", rules, zone_candidates=("Europe/London",))
    v = evaluate(lead, Channel.CALL, Purpose.SURVEY, at(LON, 2025, 6, 10, 12, 0))
    assert rules_of(v) == {"campaign.safe_harbour"}


# --- ru ---------------------------------------------------------------------------------------


def _ru(mode: DialMode = DialMode.PREVIEW, **kw: object) -> ContactFacts:
    rules = CampaignRules(3, RuleSetName.RU, caller_id="+74950000000", dial_mode=mode)
    base: dict[str, object] = {"zone_candidates": ("Europe/Moscow",)}
    base.update(kw)
    return ContactFacts("+79161234567", "RU", rules, **base)  # type: ignore[arg-type]


def test_ru_advertising_needs_consent_and_no_automatic_dialling() -> None:
    now = at(MSK, 2025, 6, 10, 12, 0)
    assert rules_of(evaluate(_ru(), Channel.CALL, Purpose.MARKETING, now)) == {"ru.38fz.consent"}
    consent = tuple(ConsentRecord(ch, Purpose.MARKETING, now - timedelta(days=1)) for ch in Channel)
    assert evaluate(_ru(consents=consent), Channel.CALL, Purpose.MARKETING, now).allowed
    robot = evaluate(_ru(consents=consent), Channel.AUTOMATED, Purpose.MARKETING, now)
    assert rules_of(robot) == {"ru.38fz.automatic_dialling"} and robot.next_allowed_at is None
    pred = evaluate(
        _ru(DialMode.PREDICTIVE, consents=consent), Channel.CALL, Purpose.MARKETING, now
    )
    assert rules_of(pred) == {"ru.38fz.automatic_dialling"}


def test_ru_collection_hours_weekday_weekend_and_holiday() -> None:
    lead = _ru(DialMode.PROGRESSIVE)
    weekday = evaluate(lead, Channel.CALL, Purpose.COLLECTION, at(MSK, 2025, 6, 10, 21, 30))
    assert weekday.allowed  # 08–22 on weekdays
    saturday = evaluate(lead, Channel.CALL, Purpose.COLLECTION, at(MSK, 2025, 6, 14, 20, 30))
    assert saturday.reasons[0].detail == "20:30 Europe/Moscow is after 20:00"
    assert saturday.next_allowed_at == at(MSK, 2025, 6, 15, 9, 0)  # Sunday 09:00
    victory = evaluate(lead, Channel.CALL, Purpose.COLLECTION, at(MSK, 2025, 5, 9, 8, 30))
    assert "holiday in RU" in victory.reasons[0].detail
    assert victory.next_allowed_at == at(MSK, 2025, 5, 9, 9, 0)


def test_ru_debtor_caps_rolling() -> None:
    now = at(MSK, 2025, 6, 10, 12, 0)
    yesterday = now - timedelta(hours=20)
    lead = _ru(DialMode.PROGRESSIVE, attempts=Attempts.of(debtor=[yesterday]))
    v = evaluate(lead, Channel.CALL, Purpose.COLLECTION, now)
    assert [str(r) for r in v.reasons] == [
        "ru.230fz.debtor_calls: 1 attempts to the debtor in the last 24 h (max 1)"
    ]
    assert v.next_allowed_at == (yesterday + timedelta(days=1)).astimezone(UTC)
    week = [now - timedelta(days=d) for d in (2, 5)]
    v2 = evaluate(_ru(DialMode.PROGRESSIVE, attempts=Attempts.of(debtor=week)), Channel.CALL,
                  Purpose.COLLECTION, now)  # fmt: skip
    assert "in the last 7 days (max 2)" in v2.reasons[0].detail
    assert v2.next_allowed_at == (week[1] + timedelta(days=7)).astimezone(UTC)


def test_ru_multi_zone_mobile_needs_every_zone_inside() -> None:
    lead = _ru(DialMode.PROGRESSIVE, zone_candidates=("Europe/Moscow", "Asia/Vladivostok"))
    # 07:30 Moscow = 14:30 Vladivostok: Moscow is not inside yet
    v = evaluate(lead, Channel.CALL, Purpose.COLLECTION, at(MSK, 2025, 6, 10, 7, 30))
    assert v.reasons[0].detail == "07:30 Europe/Moscow is before 08:00"
    assert v.next_allowed_at == at(MSK, 2025, 6, 10, 8, 0)
    # 15:30 Moscow = 22:30 Vladivostok: Vladivostok is past 22:00 → next Moscow 08:00 next day
    late = evaluate(lead, Channel.CALL, Purpose.COLLECTION, at(MSK, 2025, 6, 10, 15, 30))
    assert late.reasons[0].detail == "22:30 Asia/Vladivostok is after 22:00"
    assert late.next_allowed_at == at(MSK, 2025, 6, 11, 8, 0)
    assert late.zones == ("Europe/Moscow", "Asia/Vladivostok")


# --- eu ---------------------------------------------------------------------------------------


def _fr(**kw: object) -> ContactFacts:
    rules = CampaignRules(4, RuleSetName.EU, caller_id="+33140000000")
    return ContactFacts("+33612345678", "FR", rules, zone_candidates=("Europe/Paris",), **kw)  # type: ignore[arg-type]


def test_eu_france_prospection_hours() -> None:
    lunch = evaluate(_fr(), Channel.CALL, Purpose.MARKETING, at(PAR, 2025, 6, 10, 13, 30))
    assert lunch.reasons[0].detail == "13:30 Europe/Paris is outside 10:00–13:00, 14:00–20:00"
    assert lunch.next_allowed_at == at(PAR, 2025, 6, 10, 14, 0)
    saturday = evaluate(_fr(), Channel.CALL, Purpose.MARKETING, at(PAR, 2025, 6, 14, 11, 0))
    assert saturday.next_allowed_at == at(PAR, 2025, 6, 16, 10, 0)
    # surveys follow the house quiet hours only
    assert evaluate(_fr(), Channel.CALL, Purpose.SURVEY, at(PAR, 2025, 6, 10, 13, 30)).allowed


def test_eu_automated_needs_consent_and_objection_is_dnc() -> None:
    now = at(PAR, 2025, 6, 10, 11, 0)
    assert rules_of(evaluate(_fr(), Channel.AUTOMATED, Purpose.INFORMATIONAL, now)) == {
        "eu.consent.automated"
    }
    objected = ConsentRecord(Channel.CALL, Purpose.MARKETING, now - timedelta(days=30),
                             now - timedelta(days=1))  # fmt: skip
    v = evaluate(_fr(consents=(objected,)), Channel.CALL, Purpose.MARKETING, now)
    assert rules_of(v) == {"eu.objection"} and v.next_allowed_at is None


def test_eu_france_four_calls_in_30_days() -> None:
    now = at(PAR, 2025, 6, 10, 11, 0)
    calls = [now - timedelta(days=d) for d in (1, 3, 10, 29)]
    v = evaluate(_fr(attempts=Attempts.of(lead=calls)), Channel.CALL, Purpose.MARKETING, now)
    assert rules_of(v) == {"eu.fr.prospection_cap"}


# --- none, zones, campaign windows --------------------------------------------------------------


def test_none_allows_at_night_but_campaign_window_and_holidays_apply() -> None:
    night = at(CHI, 2025, 7, 4, 3, 0)
    rules = CampaignRules(5, RuleSetName.NONE, caller_id=CALLER)
    lead = ContactFacts("+13125550123", "US", rules)
    assert evaluate(lead, Channel.CALL, Purpose.SURVEY, night).allowed
    window = campaign_window(start="10:00", end="18:00", holiday_country="US",
                             closed_dates=[date(2025, 7, 7)])  # fmt: skip
    windowed = CampaignRules(5, RuleSetName.NONE, window, caller_id=CALLER)
    lead2 = ContactFacts("+13125550123", "US", windowed, zone_candidates=("America/Chicago",))
    v = evaluate(lead2, Channel.CALL, Purpose.SURVEY, at(CHI, 2025, 7, 4, 12, 0))
    assert "holiday in US (Independence Day)" in v.reasons[0].detail
    assert v.next_allowed_at == at(CHI, 2025, 7, 5, 10, 0)
    sunday = evaluate(lead2, Channel.CALL, Purpose.SURVEY, at(CHI, 2025, 7, 6, 19, 0))
    assert sunday.next_allowed_at == at(CHI, 2025, 7, 8, 10, 0)  # July 7th is a closed date


def test_campaign_window_on_its_own_clock() -> None:
    office = campaign_window(("mon", "tue", "wed", "thu", "fri"), "09:00", "17:00",
                             zone="Europe/London")  # fmt: skip
    rules = CampaignRules(6, RuleSetName.US, office, caller_id=CALLER)
    lead = us_lead(campaign=rules)
    # 10:00 Chicago = 16:00 London: both open; 11:30 Chicago = 17:30 London: office closed
    assert evaluate(lead, Channel.CALL, Purpose.SURVEY, at(CHI, 2025, 6, 10, 10, 0)).allowed
    v = evaluate(lead, Channel.CALL, Purpose.SURVEY, at(CHI, 2025, 6, 10, 11, 30))
    assert v.next_allowed_at == at(CHI, 2025, 6, 11, 8, 0)  # 14:00 London, 08:00 Chicago


def test_unknown_zone_not_callable_and_assumed_zone_shown() -> None:
    now = at(CHI, 2025, 6, 10, 12, 0)
    v = evaluate(us_lead(zone_candidates=()), Channel.CALL, Purpose.SURVEY, now)
    assert rules_of(v) == {"zone.unknown"} and v.next_allowed_at is None
    assumed = AssumedZone("America/Chicago", "manager@acme", scope="list")
    ok = evaluate(us_lead(zone_candidates=(), assumed_zone=assumed), Channel.CALL,
                  Purpose.SURVEY, now)  # fmt: skip
    assert ok.allowed
    assert ok.reasons[-1].rule == "zone.assumed" and "manager@acme" in ok.reasons[-1].detail
    late = evaluate(us_lead(zone_candidates=(), assumed_zone=assumed), Channel.CALL,
                    Purpose.SURVEY, now + timedelta(hours=10))  # fmt: skip
    assert not late.allowed and "zone.assumed" in rules_of(late)


def test_explicit_zone_narrows_wide_candidates() -> None:
    wide = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
    now = at(NYC, 2025, 6, 10, 10, 30)  # 07:30 in Los Angeles
    assert not evaluate(us_lead(zone_candidates=wide), Channel.CALL, Purpose.SURVEY, now).allowed
    narrowed = us_lead(zone_candidates=wide, explicit_zone="America/New_York")
    assert evaluate(narrowed, Channel.CALL, Purpose.SURVEY, now).allowed


def test_us_dst_spring_forward_next_allowed_is_local_eight() -> None:
    # Saturday 2025-03-08 21:30 CST → Sunday 08:00 CDT (the night loses an hour)
    v = evaluate(us_lead(), Channel.CALL, Purpose.SURVEY, at(CHI, 2025, 3, 8, 21, 30))
    assert v.next_allowed_at == at(CHI, 2025, 3, 9, 8, 0)
    assert v.next_allowed_at == datetime(2025, 3, 9, 13, 0, tzinfo=UTC)


def test_campaign_caps_and_spacing() -> None:
    now = at(CHI, 2025, 6, 10, 12, 0)
    rules = CampaignRules(7, RuleSetName.NONE, caller_id=CALLER, lead_caps=(Cap(2, DAY_S),),
                          min_gap_s=3600.0)  # fmt: skip
    last = now - timedelta(minutes=20)
    lead = ContactFacts("+13125550123", "US", rules, attempts=Attempts.of(lead=[last]))
    v = evaluate(lead, Channel.CALL, Purpose.SURVEY, now)
    assert "minimum gap 3600 s" in v.reasons[0].detail
    assert v.next_allowed_at == (last + timedelta(hours=1)).astimezone(UTC)
