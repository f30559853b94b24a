"""DNC index (scopes, channels, expiry, overlay) and registry import (fast path, CSV, counts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance import registry
from compliance.dnc import DncIndex, DncSet, e164_key
from compliance.registry import load_registry, parse_text
from config.vocabulary import Channel, DncChannel, DncScope

NOW = datetime(2025, 6, 10, tzinfo=UTC)


def test_e164_key() -> None:
    assert e164_key("+12015550123") == 12015550123
    assert e164_key("12015550123") is None
    assert e164_key("+0123") is None
    assert e164_key("+1234567890123456") is None


def test_scopes_channels_and_owners() -> None:
    index = DncIndex()
    index.replace_set(DncSet.build([12015550123], DncScope.GLOBAL, DncChannel.CALL, registry=True))
    index.replace_set(DncSet.build([12015550124], DncScope.TENANT, DncChannel.ALL, owner="acme"))
    index.replace_set(DncSet.build([12015550125], DncScope.CAMPAIGN, DncChannel.SMS, owner="c1"))
    assert index.lookup("+12015550123")[0].registry
    assert index.lookup("+12015550124", tenant="other") == ()
    assert index.lookup("+12015550124", tenant="acme")[0].scope is DncScope.TENANT
    hit = index.lookup("+12015550125", campaign="c1")[0]
    assert hit.covers(Channel.SMS) and not hit.covers(Channel.CALL)
    assert index.lookup("+12015550199") == ()


def test_overlay_add_remove_and_expiry() -> None:
    index = DncIndex()
    index.replace_set(DncSet.build([12015550123, 12015550124], DncScope.GLOBAL, DncChannel.ALL))
    assert index.add("+12015550130", source="STOP", expires_at=NOW + timedelta(days=1))
    assert index.lookup("+12015550130")[0].expires_at == NOW + timedelta(days=1)
    assert index.remove("+12015550123")
    assert index.lookup("+12015550123") == ()
    keys = np.array([12015550123, 12015550124, 12015550130], dtype=np.int64)
    assert index.blocked(keys, Channel.CALL, now=NOW).tolist() == [False, True, True]
    later = NOW + timedelta(days=2)
    assert index.blocked(keys, Channel.CALL, now=later).tolist() == [False, True, False]
    index.add("+12015550123")
    assert index.lookup("+12015550123") != ()


@settings(max_examples=40, deadline=None)
@given(
    listed=st.sets(st.integers(10**10, 10**10 + 5000), max_size=200),
    probe=st.lists(st.integers(10**10, 10**10 + 5000), min_size=1, max_size=200),
)
def test_vectorised_blocked_equals_lookup(listed: set[int], probe: list[int]) -> None:
    index = DncIndex()
    index.replace_set(DncSet.build(sorted(listed), DncScope.GLOBAL, DncChannel.ALL))
    keys = np.array(probe, dtype=np.int64)
    mask = index.blocked(keys, Channel.SMS, now=NOW)
    assert mask.tolist() == [bool(index.lookup(f"+{k}")) for k in probe]
    assert mask.tolist() == [k in listed for k in probe]


def test_registry_fast_path_counts() -> None:
    text = "2015550123\n+442079460000\r\n\n02015550124\n+0123\n2015550123\n9999999999999999\n"
    load = parse_text(text, country_code=1)
    assert load.fast_path
    assert load.digits.tolist() == [12015550123, 12015550124, 442079460000]
    assert (load.rows, load.imported, load.invalid, load.duplicates) == (6, 3, 2, 1)
    assert load.rows == load.imported + load.invalid + load.duplicates


def test_registry_csv_fallback_joins_area_code() -> None:
    load = parse_text("AreaCode,PhoneNumber\n201,5550123\n202,5550199\nfoo,bar\n", country_code=1)
    assert not load.fast_path
    assert load.digits.tolist() == [12015550123, 12025550199]
    assert (load.rows, load.invalid) == (3, 1)


def test_registry_file_in_small_chunks_equals_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(3)
    numbers = rng.integers(2_002_000_000, 9_899_999_999, size=5000)
    path = tmp_path / "registry.txt"
    path.write_text("\n".join(str(n) for n in numbers))  # no trailing newline
    monkeypatch.setattr(registry, "CHUNK_BYTES", 997)  # chunk edges land mid-line
    load = load_registry(path, country_code=1)
    assert load.fast_path
    assert load.digits.tolist() == sorted(set((numbers + 10**10).tolist()))
    assert load.rows == 5000


def test_registry_csv_file(tmp_path: Path) -> None:
    path = tmp_path / "dnc.csv"
    path.write_text('phone,name\n"+1 (201) 555-0123",Al\n+44 20 7946 0000,Bo\n,Cy\n')
    load = load_registry(path)
    assert load.digits.tolist() == [12015550123, 442079460000]
    assert (load.rows, load.invalid) == (3, 1)
    dnc_set = load.to_set(DncScope.GLOBAL, DncChannel.ALL, as_of=NOW.date(), registry=True)
    index = DncIndex()
    index.replace_set(dnc_set)
    assert index.registry_as_of() == NOW.date()
    assert len(index) == 2
