"""Wiring of one SMS engine node: node lock, PostgreSQL outbox, sender, SMPP client, outbox worker.

`sms_runtime(...)` is what commands use (`dialer sms campaign run`, `dialer bench sms`): it takes
this node's liveness lock, recovers the outbox (its own rows from a previous life and those of
dead nodes) before anything new is sent, runs the client and the worker, and on exit waits for
in-flight submits, unbinds and stops them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg

from config.settings import SmsSettings
from dialer.smpp.client import ClientConfig, SmppClient
from dialer.smpp.inbound import PgInboundSink
from dialer.smpp.outbox import OutboxWorker, RecoveryReport, node_lock
from dialer.smpp.pg_store import PgSmsStore
from dialer.smpp.segmentation import Concatenation
from dialer.smpp.sender import InboundSink, MemoryInboundSink, SenderConfig, SmsSender
from dialer.smpp.session import SessionConfig


@dataclass
class SmsRuntime:
    node: str
    store: PgSmsStore
    sender: SmsSender
    client: SmppClient
    worker: OutboxWorker
    recovery: RecoveryReport


def default_node_id() -> str:
    """Unique per process, so a restarted process takes its dead predecessor's rows over."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def client_config(
    sms: SmsSettings,
    *,
    host: str | None = None,
    port: int | None = None,
    system_id: str | None = None,
    password: str | None = None,
) -> ClientConfig:
    """The SMPP client's configuration from the `sms` settings, overridden by command options."""
    session = SessionConfig(
        system_id if system_id is not None else sms.system_id,
        password if password is not None else (sms.password or ""),
        system_type=sms.system_type,
        window=sms.window,
        response_timeout_s=sms.response_timeout_s,
        enquire_link_interval_s=sms.enquire_link_interval_s,
    )
    context = ssl.create_default_context() if sms.tls else None
    return ClientConfig(
        host or sms.smsc_host,
        port or sms.smsc_port,
        session,
        context,
        rate_per_s=sms.bind_rate_per_s,
    )


def sender_config(sms: SmsSettings) -> SenderConfig:
    return SenderConfig(
        source_addr=sms.source_addr,
        concatenation=Concatenation(sms.concatenation),
        want_receipts=sms.want_receipts,
        opt_out_keywords=sms.keywords,
    )


class BindError(RuntimeError):
    """The SMSC could not be bound (refused, unreachable, or too slow)."""


async def _bound(client: SmppClient, runner: asyncio.Task[str], timeout_s: float) -> None:
    bound = asyncio.ensure_future(client.bound.wait())
    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await asyncio.wait({runner, bound}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        bound.cancel()
    if not client.bound.is_set():
        reason = client.fatal or client.stats.last_close_reason or f"nothing in {timeout_s} s"
        raise BindError(f"cannot bind to {client.config.host}:{client.config.port}: {reason}")


@contextlib.asynccontextmanager
async def sms_runtime(
    pool: asyncpg.Pool,
    tenant_id: int,
    client: ClientConfig,
    sender: SenderConfig,
    *,
    inbound: InboundSink | None = None,
    node: str = "",
    poll_s: float = 0.5,
    takeover_every_s: float = 10.0,
    bind_timeout_s: float = 15.0,
) -> AsyncIterator[SmsRuntime]:
    node = node or default_node_id()
    async with node_lock(pool, node) as lock_conn:
        store = PgSmsStore(pool, tenant_id, node)
        sms_sender = SmsSender(store, inbound or MemoryInboundSink(), sender)
        smpp = SmppClient(client, sms_sender)
        sms_sender.client = smpp
        runner = asyncio.create_task(smpp.run())
        worker = OutboxWorker(
            pool, lock_conn, store, sms_sender, poll_s=poll_s, takeover_every_s=takeover_every_s
        )
        if isinstance(inbound, PgInboundSink):
            inbound.sender, inbound.on_queued = sms_sender, worker.wake.set
        worker_task: asyncio.Task[None] | None = None
        try:
            await _bound(smpp, runner, bind_timeout_s)
            recovery = await worker.recover()
            worker_task = asyncio.create_task(worker.run())
            yield SmsRuntime(node, store, sms_sender, smpp, worker, recovery)
        finally:
            if worker_task is not None:
                worker_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker_task
            await smpp.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    await asyncio.shield(runner)
            if not runner.done():
                runner.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await runner
