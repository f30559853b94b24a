"""The asyncio client and sender against the SMSC simulator over real sockets, fault by fault."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from compliance.permit import Permit, mint_operator_test_permit
from config.vocabulary import Channel, SmsStatus
from dialer.smpp.client import ClientConfig, SmppClient
from dialer.smpp.persistence import MemorySmsStore
from dialer.smpp.receipts import FINAL_STATUSES
from dialer.smpp.replies import InboundMessageReceived, OptOutReceived
from dialer.smpp.sender import MemoryInboundSink, OutboundSms, SenderConfig, SendRefused, SmsSender
from dialer.smpp.session import SessionConfig
from dialer.smpp.simulator import SmscServer
from dialer.smpp.smsc import IdBase, ReceiptForm, SmscConfig

TEXTS = ["Hello {i}", "Привет {i}", "{i} " + "long message with € and [brackets] " * 8]


@dataclass
class Rig:
    server: SmscServer
    client: SmppClient
    sender: SmsSender
    store: MemorySmsStore
    sink: MemoryInboundSink


def permit(i: int, channel: Channel = Channel.SMS, ttl_s: float = 60.0) -> Permit:
    return mint_operator_test_permit(
        phone_e164=f"+7900{i:07d}",
        channel=channel,
        operator="pytest",
        now=datetime.now(UTC),
        ttl_s=ttl_s,
    )


@asynccontextmanager
async def rig(
    smsc: SmscConfig,
    window: int = 10,
    ssl_pair: tuple[ssl.SSLContext, ssl.SSLContext] | None = None,
    response_timeout_s: float = 2.0,
    **client: object,
) -> AsyncIterator[Rig]:
    async with SmscServer(smsc, ssl_context=ssl_pair[0] if ssl_pair else None) as server:
        store, sink = MemorySmsStore(), MemoryInboundSink()
        sender = SmsSender(store, sink, SenderConfig(source_addr="DIALER"))
        session = SessionConfig(
            smsc.system_id, smsc.password, window=window, response_timeout_s=response_timeout_s
        )
        config = ClientConfig(
            "127.0.0.1",
            server.port,
            session,
            ssl_pair[1] if ssl_pair else None,
            reconnect_initial_s=0.02,
            reconnect_max_s=0.2,
        )
        smpp = SmppClient(replace(config, **client), sender)  # type: ignore[arg-type]
        sender.client = smpp
        runner = asyncio.create_task(smpp.run())
        try:
            yield Rig(server, smpp, sender, store, sink)
        finally:
            await smpp.close(timeout_s=2)
            async with asyncio.timeout(5):
                await runner


async def send_all(r: Rig, count: int, timeout_s: float = 20.0) -> list[OutboundSms]:
    sent: list[OutboundSms] = []
    async with asyncio.timeout(timeout_s):
        for i in range(count):
            result = await r.sender.send(permit(i), TEXTS[i % 3].format(i=i))
            assert not isinstance(result, SendRefused)
            sent.append(result)
        await r.sender.wait_all_final()
    return sent


def assert_exactly_once(r: Rig, sent: list[OutboundSms]) -> None:
    assert all(m.status in FINAL_STATUSES for m in sent)
    assert all(record.accepted == 1 for record in r.store.parts.values())
    assert r.server.state.stats.duplicates == 0
    assert len(r.store.parts) == sum(m.parts for m in sent)


async def test_happy_path_delivers_every_part() -> None:
    async with rig(SmscConfig(receipt_delay_ms=5)) as r:
        sent = await send_all(r, 30)
    assert_exactly_once(r, sent)
    assert {m.status for m in sent} == {SmsStatus.DELIVERED}
    assert {m.parts for m in sent} >= {1, 3}
    assert all(all(mid for mid in m.message_ids) for m in sent)


async def test_out_of_order_delayed_responses() -> None:
    async with rig(SmscConfig(max_response_delay_ms=40, receipt_delay_ms=5)) as r:
        sent = await send_all(r, 40)
    assert_exactly_once(r, sent)
    assert {m.status for m in sent} == {SmsStatus.DELIVERED}


async def test_throttling_and_queue_full_back_off_and_lose_nothing() -> None:
    smsc = SmscConfig(throttle_rate=0.3, queue_full_rate=0.1, receipt_delay_ms=5)
    async with rig(smsc, throttle_initial_s=0.01, throttle_max_s=0.05, max_attempts=50) as r:
        sent = await send_all(r, 40)
    assert r.client.stats.throttled > 0 and r.server.state.stats.throttled > 0
    assert_exactly_once(r, sent)


async def test_receipt_outcomes_and_multipart_aggregation() -> None:
    smsc = SmscConfig(undeliverable_rate=0.3, expired_rate=0.3, receipt_delay_ms=5, seed=3)
    async with rig(smsc) as r:
        sent = await send_all(r, 45)
    assert_exactly_once(r, sent)
    assert {SmsStatus.DELIVERED, SmsStatus.UNDELIVERABLE, SmsStatus.EXPIRED} <= {
        m.status for m in sent
    }
    for message in sent:
        if all(s is SmsStatus.DELIVERED for s in message.statuses):
            assert message.status is SmsStatus.DELIVERED
        else:
            assert message.status is not SmsStatus.DELIVERED
            assert message.status in message.statuses


@pytest.mark.parametrize(
    "smsc",
    [
        SmscConfig(early_receipt_rate=0.5, receipt_id_base=IdBase.DECIMAL, receipt_delay_ms=5),
        SmscConfig(message_id_base=IdBase.DECIMAL, receipt_id_base=IdBase.HEX),
        SmscConfig(
            receipt_form=ReceiptForm.TLV, message_id_base=IdBase.DECIMAL, early_receipt_rate=0.3
        ),
        SmscConfig(receipt_form=ReceiptForm.BOTH, receipt_id_base=IdBase.DECIMAL),
    ],
    ids=["early-hex-vs-decimal", "decimal-vs-hex", "tlv-early", "both-forms"],
)
async def test_receipts_correlate_across_bases_forms_and_order(smsc: SmscConfig) -> None:
    async with rig(replace(smsc, receipt_delay_ms=5)) as r:
        sent = await send_all(r, 30)
    assert_exactly_once(r, sent)
    assert {m.status for m in sent} == {SmsStatus.DELIVERED}
    assert r.store.unmatched == []


async def test_connection_drops_mid_window_lose_nothing() -> None:
    async with rig(SmscConfig(drop_every=25, max_response_delay_ms=10, receipt_delay_ms=5)) as r:
        sent = await send_all(r, 60, timeout_s=30)
    assert r.server.state.stats.drops >= 3 and r.client.stats.connects >= 4
    assert r.client.stats.resubmitted > 0
    assert_exactly_once(r, sent)
    assert {m.status for m in sent} == {SmsStatus.DELIVERED}


async def test_malformed_pdus_are_nacked_and_survived() -> None:
    async with rig(SmscConfig(malformed_rate=0.4, receipt_delay_ms=5)) as r:
        sent = await send_all(r, 30)
    assert r.client.stats.malformed_received > 0
    assert r.server.state.stats.nacks_received == r.client.stats.malformed_received
    assert r.client.stats.connects == 1
    assert_exactly_once(r, sent)


async def test_wrong_password_is_fatal_and_sends_fail() -> None:
    server = SmscServer(SmscConfig(password="right"))
    async with server:
        sender = SmsSender(MemorySmsStore(), MemoryInboundSink())
        config = ClientConfig("127.0.0.1", server.port, SessionConfig("dialer", "wrong"))
        client = SmppClient(config, sender)
        sender.client = client
        async with asyncio.timeout(5):
            reason = await client.run()
        assert "ESME_RINVPASWD" in reason and client.stats.connects == 1
        message = await sender.send(permit(1), "hello")
        assert isinstance(message, OutboundSms) and message.status is SmsStatus.FAILED


async def test_reconnects_with_backoff_until_the_smsc_is_up() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = SmsSender(MemorySmsStore(), MemoryInboundSink())
    config = ClientConfig(
        "127.0.0.1",
        port,
        SessionConfig("dialer", "secret"),
        reconnect_initial_s=0.02,
        reconnect_max_s=0.1,
    )
    client = SmppClient(config, sender)
    sender.client = client
    runner = asyncio.create_task(client.run())
    await asyncio.sleep(0.3)
    assert not client.bound.is_set() and client.stats.connects == 0
    async with SmscServer(SmscConfig(), port=port):
        async with asyncio.timeout(5):
            await client.bound.wait()
        await client.close()
        async with asyncio.timeout(5):
            await runner


async def test_opt_outs_and_replies_become_events() -> None:
    async with rig(SmscConfig(auto_reply="СТОП", receipt_delay_ms=5)) as r:
        await send_all(r, 3)
        r.server.inject_mo("79005550000", "DIALER", "Who is this?")
        for _ in range(500):  # bounded: 5 s at most
            if len(r.sink.events) >= 4:
                break
            await asyncio.sleep(0.01)
    opt_outs = [e for e in r.sink.events if isinstance(e, OptOutReceived)]
    replies = [e for e in r.sink.events if isinstance(e, InboundMessageReceived)]
    assert sorted(e.source_addr for e in opt_outs) == [f"7900{i:07d}" for i in range(3)]
    assert {e.keyword for e in opt_outs} == {"СТОП"}
    assert [e.text for e in replies] == ["Who is this?"]


async def test_smsc_enquire_link_is_answered_over_tcp() -> None:
    async with rig(SmscConfig(enquire_link_interval_s=0.05)) as r:
        await asyncio.sleep(0.3)
        sent = await send_all(r, 3)
    assert r.client.stats.connects == 1 and r.client.stats.malformed_received == 0
    assert_exactly_once(r, sent)


async def test_permit_gate() -> None:
    async with rig(SmscConfig()) as r:
        refused = await r.sender.send(permit(1, channel=Channel.CALL), "hi")
        assert isinstance(refused, SendRefused) and "channel call" in refused.reason
        r.sender.clock = lambda: datetime.now(UTC) + timedelta(seconds=120)
        expired = await r.sender.send(permit(2, ttl_s=60), "hi")
        assert isinstance(expired, SendRefused) and "expired" in expired.reason
    assert r.server.state.stats.submits == 0


def _tls_pair(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


async def test_tls(tmp_path: Path) -> None:
    async with rig(SmscConfig(receipt_delay_ms=5), ssl_pair=_tls_pair(tmp_path)) as r:
        sent = await send_all(r, 10)
    assert_exactly_once(r, sent)
    assert {m.status for m in sent} == {SmsStatus.DELIVERED}


async def test_without_resubmission_unknown_fates_fail_instead_of_duplicating() -> None:
    smsc = SmscConfig(drop_every=25, max_response_delay_ms=10, receipt_delay_ms=5)
    async with rig(smsc, resubmit_uncertain=False) as r:
        sent = await send_all(r, 60, timeout_s=30)
    assert r.client.stats.uncertain > 0 and r.client.stats.resubmitted == 0
    failed = [m for m in sent if m.status is SmsStatus.FAILED]
    assert failed and all(m.status in FINAL_STATUSES for m in sent)
    assert r.server.state.stats.duplicates == 0


async def test_response_timeout_resubmits_and_the_duplicate_is_visible() -> None:
    """The one duplicate SMPP allows: the SMSC took the part but answered too late."""
    smsc = SmscConfig(max_response_delay_ms=600, receipt_delay_ms=5, seed=5)
    async with rig(smsc, window=5, response_timeout_s=0.3) as r:
        sent = await send_all(r, 6, timeout_s=30)
    assert r.client.stats.uncertain > 0
    assert all(m.status in FINAL_STATUSES for m in sent)
    assert r.server.state.stats.duplicates > 0
