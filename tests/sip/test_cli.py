"""The `dialer call`, `dialer sim carrier` and `dialer bench sip --smoke` commands, end to end."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli.main import main
from tests.sip.sipp import SCENARIOS, free_port, sipp_binary

ROOT = Path(__file__).resolve().parents[2]


def _sipp_uas(scenario: str, tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    args = [
        sipp_binary(), "-sf", str(SCENARIOS / scenario), "-i", "127.0.0.1", "-ci", "127.0.0.1",
        "-p", str(port), "-cp", str(free_port()), "-nostdin", "-m", "1", "-timeout", "30s",
    ]  # fmt: skip
    process = subprocess.Popen(
        args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(0.3)
    return process, port


def _run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(list(argv)) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1, out
    report = json.loads(out[0])
    assert isinstance(report, dict)
    return report


def test_dialer_call_through_digest_challenge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    process, port = _sipp_uas("uas_auth_ring_answer.xml", tmp_path)
    try:
        report = _run_cli(
            capsys, "call", "+15551230001", "--trunk", f"sip:127.0.0.1:{port}",
            "--username", "alice", "--password", "s3cret", "--hold", "0.3",
            "--operator", "pytest", "--json",
        )  # fmt: skip
        assert process.wait(timeout=20) == 0
    finally:
        process.kill()
    assert report["outcome"] == "answered" and report["sip_code"] == 200
    assert report["hangup_by"] == "us" and report["operator"] == "pytest"
    assert isinstance(report["ring_s"], float) and report["ring_s"] > 0.8
    assert isinstance(report["talk_s"], float) and 0.25 < report["talk_s"] < 2


def test_dialer_call_busy_over_tcp_uri(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    process, port = _sipp_uas("uas_busy.xml", tmp_path)
    try:
        report = _run_cli(
            capsys, "call", "+15551230002", "--trunk", f"sip:127.0.0.1:{port}", "--json"
        )
    finally:
        process.kill()
    assert (report["outcome"], report["sip_code"], report["hangup_by"]) == ("busy", 486, "network")


def test_dialer_call_rejects_bad_number() -> None:
    assert main(["call", "not-a-number", "--trunk", "sip:127.0.0.1:5060"]) == 2


def test_sim_carrier_command_serves_dialer_call(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    sim = subprocess.Popen(
        [
            sys.executable, "-m", "cli.main", "sim", "carrier", "--port", str(port), "--human", "0",
            "--machine", "0", "--busy", "1", "--no-answer", "0", "--failed", "0",
            "--post-dial-s", "0.05",
            "--duration-s", "6", "--json",
        ],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(1.5)
        report = _run_cli(
            capsys, "call", "+15551230003", "--trunk", f"sip:127.0.0.1:{port}", "--json"
        )
        out, _ = sim.communicate(timeout=20)
    finally:
        sim.kill()
    assert report["outcome"] == "busy"
    sim_report = json.loads(out.decode().strip().splitlines()[-1])
    assert sim_report["planned"] == {"busy": 1} and sim_report["port"] == port


def test_bench_sip_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    sipp_binary()
    report = _run_cli(capsys, "bench", "sip", "--smoke", "--json")
    assert report["failed_transactions"] == 0 and report["carrier_failed_calls"] == 0
    ours = report["ours"]
    assert isinstance(ours, dict) and ours["outcome_mismatches"] == 0 and ours["unfinished"] == 0
    reference = report["reference"]
    assert isinstance(reference, dict) and reference["failed_calls"] == 0
    assert isinstance(report["attempts_per_s"], float) and report["attempts_per_s"] > 40
