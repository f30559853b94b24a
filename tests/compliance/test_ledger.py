"""Abandon ledgers: worked figures, and counts and budgets equal to a brute force over histories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.ledger import (
    WINDOWS,
    AbandonLedger,
    Counts,
    LedgerBook,
    abandon_rate,
)
from compliance.rulesets import (
    CAMPAIGN_TO_DATE,
    PERIOD_30D,
    ROLLING_24H,
    ROLLING_30D,
    AbandonRegime,
)
from config.vocabulary import AmdResult, CallOutcome

START = datetime(2025, 6, 1, tzinfo=UTC)
US = AbandonRegime(0.03, (PERIOD_30D, ROLLING_30D), False, "test")
OFCOM = AbandonRegime(0.03, (ROLLING_24H,), True, "test")
ALL_US = AbandonRegime(0.03, WINDOWS, False, "test")
ALL_OFCOM = AbandonRegime(0.03, WINDOWS, True, "test")


def test_us_rate_and_budget_worked() -> None:
    ledger = AbandonLedger(START, US)
    now = START + timedelta(days=2)
    ledger.record(START + timedelta(hours=1), humans=97, drops=3)
    report = ledger.report(now)
    assert report.rates[PERIOD_30D] == 0.03
    assert report.abandons == 0  # exactly at the cap: one more would exceed it
    ledger.record(START + timedelta(hours=2), humans=100)
    # 197 humans, 3 drops: (3+k)/(200+k) <= 0.03 ⇔ k <= 3.09... → 3
    assert ledger.abandon_budget(now) == 3


def test_ofcom_adjusted_rate_worked() -> None:
    ledger = AbandonLedger(START, OFCOM)
    ledger.record(START, humans=90, machines=10, drops=4)
    # adjusted = 4 − 4·10/100 = 3.6; rate = 3.6 / 93.6
    rate = ledger.report(START + timedelta(hours=1)).rates[ROLLING_24H]
    assert abs(rate - 3.6 / 93.6) < 1e-12
    # budget: d+k <= 0.03·(10+90)/0.97 = 3.09 → k = 0 (d = 4 already over)
    assert ledger.abandon_budget(START + timedelta(hours=1)) == 0
    assert ledger.abandon_budget(START + timedelta(hours=25)) == 0  # window empty: no humans


def test_outcomes_map_to_ledger_counts_and_groups_bind() -> None:
    book = LedgerBook(US)
    book.add_campaign(1, START, groups=("sales",))
    book.add_campaign(2, START, groups=("sales",))
    for _ in range(100):
        book.record_outcome(1, START + timedelta(minutes=1), CallOutcome.ANSWERED, AmdResult.HUMAN)
    book.record_outcome(1, START + timedelta(minutes=2), CallOutcome.ANSWERED, AmdResult.MACHINE)
    for _ in range(3):
        book.record_outcome(2, START + timedelta(minutes=3), CallOutcome.ABANDONED, None)
    now = START + timedelta(hours=1)
    counts = book.campaigns[1].counts(CAMPAIGN_TO_DATE, now)
    assert counts == Counts(drops=0, humans=100, machines=1)
    assert book.campaigns[1].abandon_budget(now) == 3
    assert book.abandon_budget(1, now) == 0  # the group (100 humans, 3 drops) is at its cap
    assert book.report(1, now).state().budget == 0


def test_successive_periods_restart_every_30_days() -> None:
    ledger = AbandonLedger(START, US)
    ledger.record(START + timedelta(days=29), drops=5, humans=10)
    day31 = START + timedelta(days=31)
    assert ledger.counts(PERIOD_30D, day31) == Counts()
    assert ledger.counts(ROLLING_30D, day31) == Counts(5, 10, 0)


events = st.lists(
    st.tuples(
        st.integers(0, 90 * 24 * 3600),
        st.integers(0, 3),
        st.integers(0, 40),
        st.integers(0, 10),
    ),
    max_size=60,
)


def _brute_counts(evs: list[tuple[int, int, int, int]], window: str, now_s: int) -> Counts:
    start = START.timestamp()
    ts = start + now_s
    if window == CAMPAIGN_TO_DATE:
        keep = [e for e in evs if start + e[0] <= ts]
    elif window == PERIOD_30D:
        period_start = start + (now_s // (30 * 86_400)) * 30 * 86_400
        keep = [e for e in evs if period_start <= start + e[0] <= ts]
    else:
        width = 30 * 86_400 if window == ROLLING_30D else 86_400
        keep = [e for e in evs if ts - width < start + e[0] <= ts]
    return Counts(sum(e[1] for e in keep), sum(e[2] for e in keep), sum(e[3] for e in keep))


def _exact_rate(c: Counts, ofcom: bool) -> Fraction:
    d, h, m = c.drops, c.humans, c.machines
    if not ofcom:
        return Fraction(d, h + d) if h + d else Fraction(0)
    if h == 0:
        return Fraction(1 if d else 0)
    adjusted = d - Fraction(d * m, m + h)
    return adjusted / (h + adjusted)


def _brute_budget(c: Counts, ofcom: bool) -> int:
    cap = Fraction(3, 100)
    k = 0
    while k < 10_000:
        more = Counts(c.drops + k + 1, c.humans, c.machines)
        if _exact_rate(more, ofcom) > cap:
            break
        k += 1
    return k if _exact_rate(c, ofcom) <= cap or k else 0


@settings(max_examples=120, deadline=None)
@given(evs=events, now_s=st.integers(0, 100 * 24 * 3600), ofcom=st.booleans(), shuffle=st.randoms())
def test_ledger_equals_brute_force(
    evs: list[tuple[int, int, int, int]], now_s: int, ofcom: bool, shuffle: object
) -> None:
    ledger = AbandonLedger(START, ALL_OFCOM if ofcom else ALL_US)
    order = list(evs)
    shuffle.shuffle(order)  # type: ignore[attr-defined]
    for at_s, d, h, m in order:  # out-of-order arrival is allowed
        ledger.record(START + timedelta(seconds=at_s), drops=d, humans=h, machines=m)
    now = START + timedelta(seconds=now_s)
    report = ledger.report(now)
    for window in WINDOWS:
        want = _brute_counts(evs, window, now_s)
        assert report.counts[window] == want
        assert abs(report.rates[window] - float(_exact_rate(want, ofcom))) < 1e-9
    budgets = [_brute_budget(_brute_counts(evs, w, now_s), ofcom) for w in WINDOWS]
    assert report.abandons == min(budgets)
    assert abandon_rate(report.counts[report.window], ofcom) >= 0.0
