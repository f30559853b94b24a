"""Our trunk (real UDP/TCP on 127.0.0.1) against sipp scenarios nobody tuned for us."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from compliance.permit import Permit, mint_operator_test_permit
from config.vocabulary import CallOutcome, Channel
from dialer.sip.events import CallAnswered, CallEnded, EarlyMediaStarted, HangupBy, RingingStarted
from dialer.sip.sdp import parse_sdp
from dialer.sip.timers import TimerConfig
from dialer.sip.trunk import Trunk, TrunkCall, TrunkConfig
from tests.sip.sipp import sipp_uas

FAST = TimerConfig(t1_s=0.1, t2_s=0.4, t4_s=0.5)


def _permit(number: str = "+15551230001") -> Permit:
    return mint_operator_test_permit(
        phone_e164=number, channel=Channel.CALL, operator="pytest", now=datetime.now(UTC)
    )


async def _run(call: TrunkCall, *, hold_s: float = 0.2) -> list[object]:
    events: list[object] = []
    hangup: asyncio.TimerHandle | None = None
    async with asyncio.timeout(20):
        async for event in call:
            events.append(event)
            if isinstance(event, CallAnswered):
                hangup = asyncio.get_running_loop().call_later(hold_s, call.hangup)
    if hangup is not None:
        hangup.cancel()
    return events


def _ended(events: list[object]) -> CallEnded:
    ended = events[-1]
    assert isinstance(ended, CallEnded)
    return ended


async def test_answer_after_ringing_behind_md5_digest(tmp_path: Path) -> None:
    async with sipp_uas("uas_auth_ring_answer.xml", tmp_path, calls=1) as sipp:
        config = TrunkConfig("127.0.0.1", sipp.port, username="alice", password="s3cret")
        async with Trunk(config) as trunk:
            events = await _run(await trunk.originate(_permit(), ring_timeout_s=15))
        assert await sipp.wait() == 0, sipp.errors()
    ended = _ended(events)
    assert ended.outcome == CallOutcome.ANSWERED and ended.hangup_by == HangupBy.US
    assert 0.8 < ended.ring_s < 3.0
    assert any(isinstance(e, RingingStarted) for e in events)


async def test_busy(tmp_path: Path) -> None:
    async with sipp_uas("uas_busy.xml", tmp_path, calls=1) as sipp:
        async with Trunk(TrunkConfig("127.0.0.1", sipp.port)) as trunk:
            events = await _run(await trunk.originate(_permit()))
        assert await sipp.wait() == 0, sipp.errors()
    ended = _ended(events)
    assert (ended.outcome, ended.sip_code) == (CallOutcome.BUSY, 486)


async def test_busy_over_tcp(tmp_path: Path) -> None:
    async with sipp_uas("uas_busy.xml", tmp_path, calls=1, tcp=True) as sipp:
        async with Trunk(TrunkConfig("127.0.0.1", sipp.port, transport="tcp")) as trunk:
            events = await _run(await trunk.originate(_permit()))
        assert await sipp.wait() == 0, sipp.errors()
    assert _ended(events).outcome == CallOutcome.BUSY


async def test_ring_forever_cancel_487(tmp_path: Path) -> None:
    async with sipp_uas("uas_ring_forever.xml", tmp_path, calls=1) as sipp:
        async with Trunk(TrunkConfig("127.0.0.1", sipp.port)) as trunk:
            events = await _run(await trunk.originate(_permit(), ring_timeout_s=1.0))
        assert await sipp.wait() == 0, sipp.errors()
    ended = _ended(events)
    assert (ended.outcome, ended.sip_code) == (CallOutcome.NO_ANSWER, 487)
    assert 0.9 < ended.ring_s < 2.0


async def test_early_media_then_answer(tmp_path: Path) -> None:
    async with sipp_uas("uas_early_media.xml", tmp_path, calls=1) as sipp:
        async with Trunk(TrunkConfig("127.0.0.1", sipp.port)) as trunk:
            events = await _run(await trunk.originate(_permit()))
        assert await sipp.wait() == 0, sipp.errors()
    early = [e for e in events if isinstance(e, EarlyMediaStarted)]
    assert early and (media := parse_sdp(early[0].sdp)) is not None
    assert media.audio_codec == "PCMA"
    assert _ended(events).outcome == CallOutcome.ANSWERED


async def test_far_end_bye(tmp_path: Path) -> None:
    async with sipp_uas("uas_far_bye.xml", tmp_path, calls=1) as sipp:
        async with Trunk(TrunkConfig("127.0.0.1", sipp.port)) as trunk:
            events = await _run(await trunk.originate(_permit()), hold_s=30.0)
        assert await sipp.wait() == 0, sipp.errors()
    ended = _ended(events)
    assert ended.hangup_by == HangupBy.THEM and ended.q850_cause == 16
    assert 0.8 < ended.talk_s < 3.0


async def test_retransmissions_under_loss(tmp_path: Path) -> None:
    calls = 12
    extra = ("-lost", "15", "-r", "20")
    async with sipp_uas("uas_early_media.xml", tmp_path, calls=calls, extra=extra) as sipp:
        config = TrunkConfig("127.0.0.1", sipp.port, timers=FAST, max_cps=20)
        async with Trunk(config) as trunk:
            placed = [await trunk.originate(_permit(f"+1555123{i:04d}")) for i in range(calls)]
            results = await asyncio.gather(*(_run(c) for c in placed))
            stats = trunk.stats
        await sipp.wait()
    ends = [_ended(events) for events in results]
    outcomes = [end.outcome for end in ends]
    detail = [(end.outcome.value, end.sip_code, end.reason) for end in ends]
    assert outcomes.count(CallOutcome.ANSWERED) >= calls - 1, (detail, sipp.errors())
    assert stats.get("retransmissions", 0) > 0


async def test_malformed_messages_are_discarded(tmp_path: Path) -> None:
    async with sipp_uas("uas_malformed.xml", tmp_path, calls=1) as sipp:
        async with Trunk(TrunkConfig("127.0.0.1", sipp.port)) as trunk:
            events = await _run(await trunk.originate(_permit()))
            stats = trunk.stats
        assert await sipp.wait() == 0, sipp.errors()
    ended = _ended(events)
    assert (ended.outcome, ended.sip_code) == (CallOutcome.BUSY, 486)
    assert stats.get("parse_errors", 0) >= 5
    assert any(isinstance(e, RingingStarted) for e in events), "the compact-form 180 was lost"


async def test_register_behind_md5_digest(tmp_path: Path) -> None:
    async with sipp_uas("uas_register.xml", tmp_path, calls=1) as sipp:
        config = TrunkConfig(
            "127.0.0.1", sipp.port, username="alice", password="s3cret", register=True
        )
        async with Trunk(config) as trunk:
            async with asyncio.timeout(10):
                while trunk.registration is None:  # noqa: ASYNC110 (the trunk has no event for it)
                    await asyncio.sleep(0.02)
            registration = trunk.registration
        assert await sipp.wait() == 0, sipp.errors()
    assert (registration.sip_code, registration.expires_s) == (200, 600)
