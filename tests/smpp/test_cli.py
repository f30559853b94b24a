"""`dialer sms send`, `dialer sim smsc` and a smoke-size `dialer bench sms`, as a user runs them."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest

from cli.main import main


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smsc_port() -> object:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli.main",
            "sim",
            "smsc",
            "--port",
            str(port),
            "--json",
            "--duration-s",
            "30",
            "--receipt-delay-ms",
            "20",
            "--receipt-id-base",
            "decimal",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield port
    proc.terminate()
    out, _ = proc.communicate(timeout=10)
    stats = json.loads(out)
    assert stats["port"] == port and stats["connections"] >= 1


def _send(port: int, *extra: str) -> int:
    return main(
        [
            "sms",
            "send",
            "+79001234567",
            *extra,
            "--smsc",
            f"127.0.0.1:{port}",
            "--system-id",
            "dialer",
            "--json",
        ]
    )


def test_sms_send_waits_for_the_receipt(smsc_port: int, capsys: pytest.CaptureFixture[str]) -> None:
    text = "Привет! " + "длинное сообщение " * 6
    assert _send(smsc_port, text, "--password", "secret", "--wait-receipt", "5") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["encoding"] == "ucs2" and report["parts"] == 2
    assert report["status"] == "delivered" and len(report["message_ids"]) == 2
    assert all(report["message_ids"])


def test_sms_send_without_waiting_is_accepted(
    smsc_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _send(smsc_port, "hello §", "--password", "secret") == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["parts"], report["encoding"], report["status"]) == (1, "gsm7", "accepted")


def test_sms_send_reports_a_refused_bind(
    smsc_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _send(smsc_port, "hello", "--password", "nope") == 1
    assert "ESME_RINVPASWD" in capsys.readouterr().err


def test_bench_sms_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "sms", "--messages", "400", "--store", "memory", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["messages"] == 400 and report["parts"] == 480
    assert report["lost"] == 0 and report["duplicated"] == 0
    assert report["receipts"] == 480 and report["messages_per_s"] > 0
    assert "in-memory" in report["persistence"]
