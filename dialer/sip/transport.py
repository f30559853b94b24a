"""Asyncio UDP and TCP transports that drive a `UserAgent` core: feed, send outputs, re-arm a timer.

This is the adapter ring: no SIP logic lives here, only sockets, framing and the loop's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Coroutine
from typing import Any

from dialer.sip.agent import UserAgent
from dialer.sip.events import Event
from dialer.sip.message import StreamParser
from dialer.sip.transaction import Peer

EventSink = Callable[[Event], None]
DEFAULT_RCVBUF_BYTES = 8 * 1024 * 1024


class Driver:
    """Runs a core on the loop: every input is followed by a flush and a timer re-arm."""

    def __init__(self, agent: UserAgent, on_event: EventSink) -> None:
        self.agent = agent
        self.on_event = on_event
        self.send: Callable[[bytes, Peer], None] = lambda data, peer: None
        self._loop = asyncio.get_running_loop()
        self._handle: asyncio.TimerHandle | None = None
        self._armed_at = float("inf")

    def now(self) -> float:
        return self._loop.time()

    def feed(self, data: bytes, peer: Peer) -> None:
        self.agent.receive(data, peer, self._loop.time())
        self.flush()

    def flush(self) -> None:
        """Send what the core produced and hand its events over (which may produce more)."""
        agent = self.agent
        for _ in range(100):
            out = agent.datagrams_to_send(self._loop.time())
            for data, peer in out:
                self.send(data, peer)
            event = agent.next_event()
            if event is None and not out:
                break
            while event is not None:
                self.on_event(event)
                event = agent.next_event()
        self._rearm()

    def _rearm(self) -> None:
        deadline = self.agent.next_deadline()
        if deadline is None or deadline >= self._armed_at:
            return
        if self._handle is not None:
            self._handle.cancel()
        self._armed_at = deadline
        self._handle = self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._handle, self._armed_at = None, float("inf")
        self.agent.handle_timer(self._loop.time())
        self.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()


def bind_udp(host: str, port: int, rcvbuf_bytes: int = DEFAULT_RCVBUF_BYTES) -> socket.socket:
    """A bound UDP socket with a large receive buffer (SO_RCVBUFFORCE when we may)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    force = getattr(socket, "SO_RCVBUFFORCE", None)
    try:
        if force is None:
            raise PermissionError
        sock.setsockopt(socket.SOL_SOCKET, force, rcvbuf_bytes)
    except PermissionError:  # not root: capped by net.core.rmem_max
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf_bytes)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, min(rcvbuf_bytes, 4 * 1024 * 1024))
    sock.setblocking(False)
    sock.bind((host, port))
    return sock


def bind_tcp(host: str, port: int) -> socket.socket:
    """A bound, listening-ready TCP socket (so the core knows its port before it starts)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setblocking(False)
    sock.bind((host, port))
    return sock


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, driver: Driver) -> None:
        self.driver = driver

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.driver.feed(data, (addr[0], addr[1]))

    def error_received(self, exc: Exception) -> None:
        self.driver.agent.note("transport_errors")


class UdpTransport:
    """One UDP socket driving one core."""

    def __init__(self, driver: Driver, transport: asyncio.DatagramTransport) -> None:
        self.driver = driver
        self._transport = transport
        driver.send = self._send

    @classmethod
    async def start(cls, sock: socket.socket, driver: Driver) -> UdpTransport:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _UdpProtocol(driver), sock=sock)
        return cls(driver, transport)

    def _send(self, data: bytes, peer: Peer) -> None:
        self._transport.sendto(data, peer)

    @property
    def rcvbuf_bytes(self) -> int:
        sock = self._transport.get_extra_info("socket")
        return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))

    async def close(self) -> None:
        self.driver.close()
        self._transport.close()


class TcpTransport:
    """A TCP listener plus outgoing connections keyed by peer address; framing per connection."""

    def __init__(self, driver: Driver) -> None:
        self.driver = driver
        self._writers: dict[Peer, asyncio.StreamWriter] = {}
        self._pending: dict[Peer, list[bytes]] = {}
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        driver.send = self._send

    @classmethod
    async def start(cls, sock: socket.socket, driver: Driver) -> TcpTransport:
        self = cls(driver)
        self._server = await asyncio.start_server(self._accepted, sock=sock)
        return self

    def _send(self, data: bytes, peer: Peer) -> None:
        writer = self._writers.get(peer)
        if writer is not None and not writer.is_closing():
            writer.write(data)
            return
        queued = self._pending.get(peer)
        if queued is not None:
            queued.append(data)
            return
        self._pending[peer] = [data]
        self._spawn(self._connect(peer))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect(self, peer: Peer) -> None:
        try:
            reader, writer = await asyncio.open_connection(peer[0], peer[1])
        except OSError:
            self._pending.pop(peer, None)
            self.driver.agent.note("transport_errors")
            return
        for data in self._pending.pop(peer, []):
            writer.write(data)
        await self._serve(reader, writer, peer)

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        name = writer.get_extra_info("peername")
        await self._serve(reader, writer, (name[0], name[1]))

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: Peer
    ) -> None:
        self._writers[peer] = writer
        framer = StreamParser()
        agent = self.driver.agent
        try:
            while data := await reader.read(65536):
                for message in framer.feed(data):
                    agent.receive_message(message, peer, self.driver.now())
                self.driver.flush()
                if framer.broken:
                    break
        except OSError:
            agent.note("transport_errors")
        finally:
            if self._writers.get(peer) is writer:
                del self._writers[peer]
            writer.close()

    async def close(self) -> None:
        self.driver.close()
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers.values()):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
