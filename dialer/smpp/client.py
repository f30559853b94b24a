"""The asyncio SMPP client: drives one `Session` per TCP (optionally TLS) connection.

It owns the send queue, reconnects with exponential backoff and jitter, pauses on ESME_RTHROTTLED
and ESME_RMSGQFUL, resubmits parts whose fate a lost connection left unknown (the one case an
SMSC can get a part twice), and hands outcomes and deliver_sm PDUs to a listener in batches;
a deliver_sm is acknowledged only after the listener returns. One writer task per connection
takes as many queued submits as the window has room for and tells the listener
(`submits_writing`, one batch) before it writes them, so "written, fate unknown" is exactly the
set the listener recorded last and never a queued part that was not written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from dialer.smpp import events as ev
from dialer.smpp.pdu import SmPdu, Status, status_name
from dialer.smpp.rate import TokenBucket
from dialer.smpp.session import Session, SessionConfig, State

log = logging.getLogger("dialer.smpp.client")
FATAL_BIND_STATUSES = frozenset({Status.ESME_RINVPASWD, Status.ESME_RINVSYSID})


@dataclass(frozen=True)
class ClientConfig:
    host: str
    port: int
    session: SessionConfig
    ssl: ssl.SSLContext | None = None
    connect_timeout_s: float = 10.0
    reconnect_initial_s: float = 0.2
    reconnect_max_s: float = 30.0
    throttle_initial_s: float = 0.05
    throttle_max_s: float = 5.0
    max_attempts: int = 8
    resubmit_uncertain: bool = True
    record_retry_s: float = 1.0
    rate_per_s: float = 0.0  # submit_sm per second on this bind (0: only the window limits)


@dataclass(frozen=True, slots=True)
class SubmitOutcome:
    """How one submit ended: accepted (status 0, message_id), refused (status), or given up."""

    tag: object
    status: int
    message_id: str = ""
    gave_up: bool = False
    reason: str = ""

    @property
    def accepted(self) -> bool:
        return self.status == Status.ESME_ROK and not self.gave_up


class ClientListener(Protocol):
    async def submits_writing(self, tags: Sequence[object]) -> None:
        """Record durably that these submits are about to be written to the socket."""

    async def submits_resolved(self, outcomes: Sequence[SubmitOutcome]) -> None: ...

    async def delivers_received(self, pdus: Sequence[SmPdu]) -> None: ...


@dataclass
class ClientStats:
    connects: int = 0
    binds: int = 0
    bind_failures: int = 0
    throttled: int = 0
    uncertain: int = 0
    resubmitted: int = 0
    malformed_received: int = 0
    last_close_reason: str = ""


@dataclass(slots=True)
class _Job:
    tag: object
    pdu: SmPdu
    attempts: int = 1


class SmppClient:
    """Run `run()` as a task; `submit()` from anywhere; `close()` to unbind and stop."""

    def __init__(self, config: ClientConfig, listener: ClientListener) -> None:
        self.config = config
        self.listener = listener
        self.stats = ClientStats()
        self.bound = asyncio.Event()
        self.fatal: str | None = None
        self._loop = asyncio.get_running_loop()
        self._queue: deque[_Job] = deque()
        self._inflight: dict[int, _Job] = {}
        self._room = asyncio.Event()
        self._idle = asyncio.Event()
        self._wake = asyncio.Event()
        self._kick = asyncio.Event()
        self._staged: list[_Job] = []
        self._closing = False
        self._session: Session | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._paused_until = 0.0
        self._throttle_s = config.throttle_initial_s
        self._rng = random.Random()
        self._bucket = TokenBucket(config.rate_per_s, now=self._loop.time())
        self._room.set()
        self._idle.set()

    @property
    def queue_limit(self) -> int:
        return 2 * self.config.session.window

    @property
    def outstanding(self) -> int:
        return len(self._queue) + len(self._inflight) + len(self._staged)

    async def submit(self, pdu: SmPdu, tag: object) -> None:
        """Queue a submit_sm (waits while the queue is full); its outcome goes to the listener."""
        while len(self._queue) >= self.queue_limit and not self._stopping:
            self._room.clear()
            await self._room.wait()
        if self._stopping:
            reason = self.fatal or "client closed"
            await self.listener.submits_resolved(
                [SubmitOutcome(tag, -1, gave_up=True, reason=reason)]
            )
            return
        self._queue.append(_Job(tag, pdu))
        self._idle.clear()
        self._kick.set()

    async def drain(self) -> None:
        """Wait until every queued submit has an outcome."""
        await self._idle.wait()

    async def close(self, timeout_s: float = 5.0) -> None:
        """Unbind (after in-flight responses, up to `timeout_s`) and stop reconnecting."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self.drain()
        self._closing = True
        self._wake.set()
        self._room.set()
        self._kick.set()
        session, writer = self._session, self._writer
        if session is not None and session.state is State.BOUND:
            session.unbind(self._loop.time())
            self._flush()
        elif writer is not None:
            writer.close()

    @property
    def _stopping(self) -> bool:
        return self._closing or self.fatal is not None

    async def run(self) -> str:
        """Connect, bind and serve until closed or refused for good; returns why it stopped."""
        delay_s = self.config.reconnect_initial_s
        reason = ""
        while not self._stopping:
            binds_before = self.stats.binds
            reason = await self._connect_once()
            if self._stopping:
                break
            if self.stats.binds > binds_before:
                delay_s = self.config.reconnect_initial_s
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay_s * self._rng.uniform(0.5, 1.0)):
                    await self._wake.wait()
            delay_s = min(delay_s * 2, self.config.reconnect_max_s)
        await self._give_up_all(self.fatal or "client closed")
        return self.fatal or reason

    async def _connect_once(self) -> str:
        cfg = self.config
        try:
            async with asyncio.timeout(cfg.connect_timeout_s):
                reader, writer = await asyncio.open_connection(cfg.host, cfg.port, ssl=cfg.ssl)
        except (OSError, TimeoutError) as exc:
            reason = f"connect to {cfg.host}:{cfg.port} failed: {exc or type(exc).__name__}"
            self.stats.last_close_reason = reason
            return reason
        self.stats.connects += 1
        session = Session(cfg.session, self._loop.time())
        self._session, self._writer = session, writer
        writer_task = asyncio.create_task(self._write_loop(session))
        try:
            session.bind(self._loop.time())
            self._flush()
            await self._read_loop(reader, session)
        finally:
            self._session = self._writer = None
            self._kick.set()
            await writer_task
            self.bound.clear()
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        return self.stats.last_close_reason

    async def _read_loop(self, reader: asyncio.StreamReader, session: Session) -> None:
        while not session.closed:
            data: bytes | None
            try:
                async with asyncio.timeout_at(self._deadline(session)):
                    data = await reader.read(65536)
            except TimeoutError:
                data = None
            except OSError as exc:
                session.connection_lost(f"connection error: {exc}")
                data = None
            now = self._loop.time()
            if data is None:
                session.handle_timer(now)
            elif not data:
                session.connection_lost("connection closed by the SMSC")
            else:
                session.receive_data(data, now)
            await self._process(session)

    def _deadline(self, session: Session) -> float | None:
        return session.get_timer()

    async def _process(self, session: Session) -> None:
        outcomes: list[SubmitOutcome] = []
        delivers: list[SmPdu] = []
        for event in session.events():
            if isinstance(event, ev.DeliverReceived):
                delivers.append(event.pdu)
            else:
                self._on_event(event, outcomes)
        self._kick.set()
        if outcomes:
            await self.listener.submits_resolved(outcomes)
        if delivers:
            await self.listener.delivers_received(delivers)
            for pdu in delivers:
                session.acknowledge(pdu.sequence)
            self._flush()
        self._update_flags()
        if self._writer is not None and not session.closed:
            with contextlib.suppress(OSError):
                await self._writer.drain()

    def _on_event(self, event: ev.Event, outcomes: list[SubmitOutcome]) -> None:
        if isinstance(event, ev.SubmitAccepted):
            job = self._inflight.pop(event.sequence)
            self._throttle_s = self.config.throttle_initial_s
            outcomes.append(SubmitOutcome(job.tag, 0, event.message_id))
        elif isinstance(event, ev.SubmitRejected):
            job = self._inflight.pop(event.sequence)
            outcomes.append(SubmitOutcome(job.tag, event.status))
        elif isinstance(event, ev.SubmitThrottled):
            self._on_throttled(self._inflight.pop(event.sequence), event.status, outcomes)
        elif isinstance(event, ev.SubmitTimedOut):
            self._on_uncertain(self._inflight.pop(event.sequence), outcomes)
        elif isinstance(event, ev.SessionClosed):
            self.stats.last_close_reason = event.reason
            for sequence in event.unresolved:
                self._on_uncertain(self._inflight.pop(sequence), outcomes)
            self._inflight.clear()
        else:
            self._on_link_event(event)

    def _on_link_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.BindSucceeded):
            self.stats.binds += 1
            self.bound.set()
            if self._closing and self._session is not None:
                self._session.unbind(self._loop.time())
        elif isinstance(event, ev.BindFailed):
            self.stats.bind_failures += 1
            if event.status in FATAL_BIND_STATUSES:
                self.fatal = f"bind refused: {status_name(event.status)}"
                self._wake.set()
        elif isinstance(event, ev.MalformedPduReceived):
            self.stats.malformed_received += 1

    def _on_throttled(self, job: _Job, status: int, outcomes: list[SubmitOutcome]) -> None:
        self.stats.throttled += 1
        if job.attempts >= self.config.max_attempts:
            reason = f"still {status_name(status)} after {job.attempts} attempts"
            outcomes.append(SubmitOutcome(job.tag, status, gave_up=True, reason=reason))
            return
        job.attempts += 1
        self._queue.appendleft(job)
        self._paused_until = self._loop.time() + self._throttle_s
        self._throttle_s = min(self._throttle_s * 2, self.config.throttle_max_s)

    def _on_uncertain(self, job: _Job, outcomes: list[SubmitOutcome]) -> None:
        self.stats.uncertain += 1
        can_retry = self.config.resubmit_uncertain and job.attempts < self.config.max_attempts
        if can_retry and not self._stopping:
            job.attempts += 1
            self.stats.resubmitted += 1
            self._queue.appendleft(job)
        else:
            outcomes.append(SubmitOutcome(job.tag, -1, gave_up=True, reason="fate unknown"))

    async def _write_loop(self, session: Session) -> None:
        """Write queued submits while the window has room; the listener records each batch first."""
        while not session.closed and self._session is session:
            pause_s = self._paused_until - self._loop.time()
            if pause_s > 0 and self._queue:
                await asyncio.sleep(pause_s)
                continue
            self._kick.clear()
            if not self._queue or session.window_free <= 0:
                await self._kick.wait()
                continue
            now = self._loop.time()
            count = self._bucket.take(min(session.window_free, len(self._queue)), now)
            if count == 0:
                await asyncio.sleep(self._bucket.next_at(now) - now)
                continue
            self._staged = [self._queue.popleft() for _ in range(count)]
            recorded = await self._record_writing(session)
            if not recorded:
                self._queue.extendleft(reversed(self._staged))
                self._staged = []
                continue
            now = self._loop.time()
            for job in self._staged:
                self._inflight[session.submit(job.pdu, now)] = job
            self._staged = []
            self._flush()
            self._update_flags()
            if self._writer is not None:
                with contextlib.suppress(OSError):
                    await self._writer.drain()

    async def _record_writing(self, session: Session) -> bool:
        """Tell the listener; False when the batch must go back to the queue (not written)."""
        try:
            await self.listener.submits_writing([job.tag for job in self._staged])
        except Exception as exc:  # the store is down: pause sending, never write unrecorded
            log.warning("recording submits failed; retrying", extra={"fields": {"error": str(exc)}})
            await asyncio.sleep(self.config.record_retry_s)
            return False
        return not session.closed and self._session is session

    def _update_flags(self) -> None:
        if len(self._queue) < self.queue_limit:
            self._room.set()
        if not self._queue and not self._inflight and not self._staged:
            self._idle.set()

    def _flush(self) -> None:
        session, writer = self._session, self._writer
        if session is not None and writer is not None:
            data = session.data_to_send()
            if data:
                writer.write(data)

    async def _give_up_all(self, reason: str) -> None:
        jobs = list(self._queue) + list(self._inflight.values()) + self._staged
        self._staged = []
        self._queue.clear()
        self._inflight.clear()
        if jobs:
            outcomes = [SubmitOutcome(j.tag, -1, gave_up=True, reason=reason) for j in jobs]
            await self.listener.submits_resolved(outcomes)
        self._update_flags()
        self._room.set()
