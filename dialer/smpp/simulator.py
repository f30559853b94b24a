"""The SMSC simulator's asyncio TCP server (`dialer sim smsc`): one `SmscSession` per connection.

Also runnable in a child process (`serve_in_process`) so a benchmark's client and SMSC use
separate cores; the child reports its counters back over a pipe when told to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import resource
import ssl
import time
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from dialer.smpp.smsc import SmscConfig, SmscSession, SmscState

IDLE_POLL_S = 0.05


class SmscServer:
    """`async with SmscServer(config) as server:` listens on `server.port` (0 picks a free one)."""

    def __init__(
        self,
        config: SmscConfig,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.config = config
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.state = SmscState(config)
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.state.wall_offset_s = time.time() - loop.time()
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, ssl=self.ssl_context
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> SmscServer:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def inject_mo(self, source_addr: str, destination_addr: str, text: str) -> None:
        """A handset replies: delivered to the next receiver bind as a deliver_sm."""
        now = asyncio.get_running_loop().time()
        self.state.inject_mo(source_addr, destination_addr, text, now)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        loop = asyncio.get_running_loop()
        session = SmscSession(self.state, loop.time())
        try:
            await self._drive(reader, writer, session, loop)
        except OSError:
            pass
        finally:
            session.connection_lost()
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _drive(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        session: SmscSession,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        while not session.should_close:
            timer = session.get_timer()
            poll = loop.time() + IDLE_POLL_S
            data: bytes | None = None
            try:
                async with asyncio.timeout_at(poll if timer is None else min(timer, poll)):
                    data = await reader.read(65536)
            except TimeoutError:
                pass
            if data == b"":
                return
            now = loop.time()
            if data:
                session.receive_data(data, now)
            session.handle_timer(now)
            out = session.data_to_send()
            if out:
                writer.write(out)
                await writer.drain()


def stats_dict(server: SmscServer) -> dict[str, Any]:
    stats = dataclasses.asdict(server.state.stats)
    stats["statuses"] = dict(server.state.stats.statuses)
    stats["connections"] = server.connections
    return stats


async def _serve_until_told(config: SmscConfig, conn: Connection) -> None:
    async with SmscServer(config) as server:
        conn.send(("ready", server.port))
        loop = asyncio.get_running_loop()
        while not await loop.run_in_executor(None, conn.poll, 0.2):
            pass
        conn.recv()
        stats = stats_dict(server)
        stats["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        conn.send(("stats", stats))


def serve_in_process(config: SmscConfig, conn: Connection) -> None:
    """Child-process entry: serve on a free port, send ("ready", port), stop on any message."""
    asyncio.run(_serve_until_told(config, conn))
