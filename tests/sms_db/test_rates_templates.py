"""Pure cores of the SMS campaign path: send rates and templates (synchronous, explicit time)."""

from __future__ import annotations

import asyncio
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.sms_campaign import LEAD_FIELDS, parse_template
from dialer.smpp.rate import DestinationSpacing, TokenBucket
from dialer.smpp.sender import SendRequest
from dialer.smpp.smsc import SmscConfig
from storage.runtime import Storage
from tests.sms_db.rig import permit, pg_rig


def test_token_bucket_never_exceeds_its_rate() -> None:
    bucket = TokenBucket(100.0, burst=10, now=0.0)
    granted = sum(bucket.take(50, t / 1000) for t in range(0, 2001))  # 2 s, asked every 1 ms
    assert 200 <= granted <= 210  # 100/s for 2 s plus the initial burst
    assert TokenBucket(0.0).take(1000, 0.0) == 1000  # 0 means unlimited
    empty = TokenBucket(10.0, burst=1, now=0.0)
    assert empty.take(1, 0.0) == 1 and empty.take(1, 0.0) == 0
    assert abs(empty.next_at(0.0) - 0.1) < 1e-9


def test_destination_spacing() -> None:
    spacing = DestinationSpacing(1.0)
    assert spacing.wait_s("+79160000001", 10.0) == 0.0
    assert abs(spacing.wait_s("+79160000001", 10.25) - 0.75) < 1e-9
    assert spacing.wait_s("+79160000002", 10.25) == 0.0
    assert spacing.wait_s("+79160000001", 11.0) == 0.0


@settings(max_examples=60, deadline=None)
@given(
    literal=st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=40),
    field=st.sampled_from(sorted(LEAD_FIELDS - {"full_name"})),
    value=st.one_of(st.none(), st.text(max_size=20)),
    default=st.text(alphabet=st.characters(blacklist_characters="{}[]:!|"), max_size=10),
)
def test_templates_render_every_lead_without_failing(
    literal: str, field: str, value: str | None, default: str
) -> None:
    template = parse_template(f"{literal}{{{field}|{default}}}{literal}.", ())
    rendered = template.render({field: value})
    shown = default if value in (None, "") else value
    assert rendered == f"{literal}{shown}{literal}."


async def test_bind_rate_limits_submits_per_second(storage: Storage) -> None:
    async with pg_rig(storage.pool, SmscConfig(receipt_delay_ms=5), window=50, rate_per_s=100) as r:
        requests = [SendRequest(permit(f"+7918{i:07d}"), f"rate {i}", f"{r.prefix}-{i}")
                    for i in range(40)]  # fmt: skip
        started = time.perf_counter()
        async with asyncio.timeout(20):
            await r.sender.send_many(requests)
            await r.client.drain()
        elapsed_s = time.perf_counter() - started
    assert elapsed_s >= (40 - 10) / 100  # the burst is rate/10 = 10
    assert r.server.state.stats.accepted == 40
