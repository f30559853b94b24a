"""`dialer compliance check` and `dialer dnc ...` end to end (subprocess, --json, real storage)."""

from __future__ import annotations

import random
from pathlib import Path

from config import Settings
from storage.runtime import Storage
from tests.foundation.test_cli import dialer, one_json


def fresh_number() -> str:
    return f"+1312555{random.randrange(10_000):04d}"


async def test_check_prints_the_verdict_with_reasons_and_next_allowed_at(
    storage: Storage, settings: Settings
) -> None:
    night = one_json(
        dialer(
            settings,
            "compliance",
            "check",
            "(312) 555-0123",
            "--at",
            "2025-06-10T21:05:00-05:00",
            "--zip",
            "60601",
            "--purpose",
            "survey",
            "--json",
        )
    )
    assert night["allowed"] is False and night["zones"] == ["America/Chicago"]
    assert {"rule": "us.calling_hours", "detail": "21:05 America/Chicago is after 21:00"} in night[
        "reasons"
    ]
    assert night["next_allowed_at"] == "2025-06-11T13:00:00Z"
    assert night["decided_at"] == "2025-06-11T02:05:00Z"
    london = one_json(
        dialer(
            settings,
            "compliance",
            "check",
            "020 7946 0958",
            "--country",
            "GB",
            "--at",
            "2025-06-10T12:00:00Z",
            "--purpose",
            "survey",
            "--json",
        )
    )
    assert london["allowed"] is True and london["rule_set"] == "uk"
    assert london["reasons"][0]["rule"] == "uk.calling_hours"
    assert london["next_allowed_at"] == "2025-06-10T12:00:00Z"


async def test_bad_input_names_the_option(storage: Storage, settings: Settings) -> None:
    naive = dialer(settings, "compliance", "check", "+13125550123", "--at", "2025-06-10T12:00")
    assert naive.returncode == 2 and "--at" in naive.stderr and naive.stdout == ""
    bad = dialer(settings, "dnc", "add", "12", "--json")
    assert bad.returncode == 2 and "number" in bad.stderr


async def test_dnc_add_check_refuse_remove(storage: Storage, settings: Settings) -> None:
    phone = fresh_number()
    added = one_json(dialer(settings, "dnc", "add", phone[2:], "--reason", "asked", "--json"))
    assert added["ok"] and added["phone"] == phone and added["entries"][0]["scope"] == "global"
    try:
        listed = one_json(dialer(settings, "dnc", "check", phone, "--json"))
        assert listed["listed"] is True
        verdict = one_json(
            dialer(
                settings,
                "compliance",
                "check",
                phone,
                "--zone",
                "America/Chicago",
                "--purpose",
                "survey",
                "--at",
                "2025-06-10T17:00:00Z",
                "--json",
            )
        )
        assert verdict["allowed"] is False
        assert [r["rule"] for r in verdict["reasons"]] == ["dnc.global"]
        assert verdict["next_allowed_at"] is None
    finally:
        removed = one_json(dialer(settings, "dnc", "remove", phone, "--json"))
    assert removed["removed"] == 1
    assert one_json(dialer(settings, "dnc", "check", phone, "--json"))["listed"] is False


async def test_dnc_import_for_a_campaign_binds_its_marketing(
    storage: Storage, settings: Settings, tmp_path: Path, unique_name: str
) -> None:
    one_json(
        dialer(
            settings,
            "campaigns",
            "create",
            unique_name,
            "--rules",
            "us",
            "--caller-id",
            "+12025550100",
            "--mode",
            "preview",
            "--json",
        )
    )
    listed, clean = fresh_number(), fresh_number()
    path = tmp_path / "registry.txt"
    path.write_text(f"{listed[2:]}\n{listed[2:]}\n")
    report = one_json(
        dialer(
            settings,
            "dnc",
            "import",
            str(path),
            "--scope",
            "campaign",
            "--campaign",
            unique_name,
            "--as-of",
            "2025-06-01",
            "--json",
        )
    )
    assert (report["rows"], report["imported"], report["duplicates"]) == (2, 1, 1)
    assert report["registry"] is True and report["scope"] == "campaign"
    at = ["--at", "2025-06-10T17:00:00Z", "--zone", "America/Chicago", "--state", "IL"]
    refused = one_json(
        dialer(settings, "compliance", "check", listed, "--campaign", unique_name, *at, "--json")
    )
    assert [r["rule"] for r in refused["reasons"]] == ["dnc.registry"]
    allowed = one_json(
        dialer(settings, "compliance", "check", clean, "--campaign", unique_name, *at, "--json")
    )
    assert allowed["allowed"] is True and allowed["campaign_id"] is not None
    assert allowed["permit_expires_at"] is not None
