"""A SIP trunk: configuration, pacing (CPS and channels), and `originate` under a compliance Permit.

`Trunk.originate(permit, ...)` is the only way the engine places a call; the number is the permit's.
The returned `TrunkCall` yields the core's events (ringing, early media, answered, ended).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from urllib.parse import unquote

from compliance.permit import Permit
from config.vocabulary import Channel
from dialer.sip.agent import AgentConfig, UserAgent
from dialer.sip.dialog import LocalEndpoint
from dialer.sip.events import CallAnswered, CallEnded, Event, OptionsAnswered, RegistrationFinished
from dialer.sip.fields import format_host, split_host_port
from dialer.sip.sdp import build_offer
from dialer.sip.timers import TimerConfig
from dialer.sip.transport import (
    DEFAULT_RCVBUF_BYTES,
    Driver,
    TcpTransport,
    UdpTransport,
    bind_tcp,
    bind_udp,
)
from dialer.sip.uac import CallRequest

CALL_CHANNELS = frozenset({Channel.CALL, Channel.AUTOMATED})


class TrunkError(Exception):
    """The trunk was misused: a permit that is expired or not for calls, or a closed trunk."""


@dataclass(frozen=True, slots=True)
class TrunkConfig:
    """Where and how calls leave: host, port, transport, credentials, caller ID and limits."""

    host: str
    port: int = 5060
    transport: str = "udp"
    username: str | None = None
    password: str | None = None
    caller_id: str = "anonymous"
    max_channels: int = 100
    max_cps: float = 10.0
    local_host: str = "127.0.0.1"
    local_port: int = 0
    register: bool = False
    register_expires_s: int = 3600
    options_interval_s: float = 0.0
    setup_cap_s: float = 60.0
    media_port: int = 40000
    rcvbuf_bytes: int = DEFAULT_RCVBUF_BYTES
    timers: TimerConfig = field(default_factory=TimerConfig)

    @classmethod
    def from_uri(cls, uri: str, **overrides: object) -> TrunkConfig:
        """`sip:HOST[:PORT][;transport=tcp]` or `sip:user:password@HOST:PORT` → a config."""
        scheme, sep, rest = uri.partition(":")
        if not sep or scheme.lower() not in ("sip", "sips"):
            raise ValueError(f"trunk must look like sip:HOST:PORT, got {uri!r}")
        rest, _, params = rest.partition(";")
        values: dict[str, object] = {}
        if "@" in rest:
            userinfo, rest = rest.rsplit("@", 1)
            user, _, password = userinfo.partition(":")
            values.update(username=unquote(user), password=unquote(password) or None)
        hostport = split_host_port(rest)
        if hostport is None:
            raise ValueError(f"trunk host is not HOST[:PORT]: {rest!r}")
        values.update(host=hostport[0], port=hostport[1] or 5060)
        if "transport=tcp" in params.lower():
            values["transport"] = "tcp"
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


class TrunkCall:
    """One originated call as the engine sees it: an event stream ending in `CallEnded`."""

    def __init__(self, trunk: Trunk, call_id: str, permit: Permit) -> None:
        self.trunk = trunk
        self.call_id = call_id
        self.permit = permit
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self.answered: asyncio.Future[CallAnswered] = asyncio.get_running_loop().create_future()
        self.ended: asyncio.Future[CallEnded] = asyncio.get_running_loop().create_future()

    def _deliver(self, event: Event) -> None:
        self.events.put_nowait(event)
        if isinstance(event, CallAnswered) and not self.answered.done():
            self.answered.set_result(event)
        if isinstance(event, CallEnded) and not self.ended.done():
            self.ended.set_result(event)
            if not self.answered.done():
                self.answered.cancel()

    def hangup(self) -> None:
        """Hang up (BYE), or give up before the answer (CANCEL): the outcome comes as CallEnded."""
        self.trunk._hangup(self.call_id)

    async def wait_ended(self) -> CallEnded:
        return await asyncio.shield(self.ended)

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            event = await self.events.get()
            yield event
            if isinstance(event, CallEnded):
                return


class Trunk:
    """An open trunk: one transport and one user agent core, paced by CPS and channels."""

    def __init__(self, config: TrunkConfig) -> None:
        self.config = config
        self.agent: UserAgent | None = None
        self.peer: tuple[str, int] = (config.host, config.port)
        self.last_options: OptionsAnswered | None = None
        self.registration: RegistrationFinished | None = None
        self._driver: Driver | None = None
        self._transport: UdpTransport | TcpTransport | None = None
        self._calls: dict[str, TrunkCall] = {}
        self._channels = asyncio.Semaphore(config.max_channels)
        self._next_slot = 0.0
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Trunk:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def start(self) -> None:
        cfg = self.config
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(cfg.host, cfg.port, type=socket.SOCK_DGRAM)
        address = infos[0][4]
        self.peer = (str(address[0]), int(address[1]))
        tcp = cfg.transport.lower() == "tcp"
        if tcp:
            sock = bind_tcp(cfg.local_host, cfg.local_port)
        else:
            sock = bind_udp(cfg.local_host, cfg.local_port, cfg.rcvbuf_bytes)
        port = int(sock.getsockname()[1])
        kind = "TCP" if tcp else "UDP"
        endpoint = LocalEndpoint(cfg.local_host, port, kind, "dialer", cfg.caller_id)
        creds = (cfg.username, cfg.password or "") if cfg.username else None
        self.agent = UserAgent(AgentConfig(endpoint, tcp, cfg.timers, creds))
        self._driver = Driver(self.agent, self._on_event)
        if tcp:
            self._transport = await TcpTransport.start(sock, self._driver)
        else:
            self._transport = await UdpTransport.start(sock, self._driver)
        if cfg.register:
            self._act(self._register)
        if cfg.options_interval_s > 0:
            self._tasks.append(asyncio.create_task(self._keepalive()))

    @property
    def _agent(self) -> UserAgent:
        if self.agent is None:
            raise TrunkError("trunk is not started")
        return self.agent

    @property
    def _domain_uri(self) -> str:
        return f"sip:{format_host(self.config.host, self.config.port)}"

    @property
    def _aor(self) -> str:
        return (
            f"sip:{self.config.username or self.config.caller_id}@{format_host(self.config.host)}"
        )

    def _register(self, now: float) -> None:
        cfg = self.config
        self._agent.register(self.peer, self._domain_uri, self._aor, cfg.register_expires_s, now)

    def _act(self, action: Callable[[float], None]) -> None:
        assert self._driver is not None
        action(self._driver.now())
        self._driver.flush()

    async def _keepalive(self) -> None:
        while True:
            self._act(lambda now: self._agent.options(self.peer, self._domain_uri, now))
            await asyncio.sleep(self.config.options_interval_s)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._transport is not None:
            await self._transport.close()
            self._transport = None

    @property
    def stats(self) -> dict[str, int]:
        return dict(self._agent.stats)

    @property
    def rcvbuf_bytes(self) -> int | None:
        return self._transport.rcvbuf_bytes if isinstance(self._transport, UdpTransport) else None

    async def originate(
        self,
        permit: Permit,
        caller_id: str | None = None,
        ring_timeout_s: float = 20.0,
        headers: Iterable[tuple[str, str]] = (),
        *,
        setup_cap_s: float | None = None,
        sdp_offer: bytes | None = None,
    ) -> TrunkCall:
        """Place a call to the permit's number, waiting for a channel and a CPS slot first."""
        self._check_permit(permit)
        await self._channels.acquire()
        try:
            await self._pace()
            self._check_permit(permit)
            return self._place(
                permit, caller_id, ring_timeout_s, tuple(headers), setup_cap_s, sdp_offer
            )
        except BaseException:
            self._channels.release()
            raise

    def _check_permit(self, permit: Permit) -> None:
        if self._transport is None:
            raise TrunkError("trunk is closed")
        if permit.channel not in CALL_CHANNELS:
            raise TrunkError(f"permit is for {permit.channel}, not a call")
        if not permit.is_valid_at(datetime.now(UTC)):
            raise TrunkError(f"permit for {permit.phone_e164} expired at {permit.expires_at}")

    async def _pace(self) -> None:
        """Space INVITEs at 1/max_cps; up to 250 ms of slots missed in a stall are caught up."""
        now = asyncio.get_running_loop().time()
        interval = 1.0 / self.config.max_cps
        backlog = max(1.0, 0.25 * self.config.max_cps)
        if self._next_slot == 0.0:  # no burst at start: the backlog is only for stalls
            self._next_slot = now
        slot = max(self._next_slot, now - backlog * interval)
        self._next_slot = slot + interval
        if slot > now:
            await asyncio.sleep(slot - now)

    def _place(
        self,
        permit: Permit,
        caller_id: str | None,
        ring_timeout_s: float,
        headers: tuple[tuple[str, str], ...],
        setup_cap_s: float | None,
        sdp_offer: bytes | None,
    ) -> TrunkCall:
        cfg = self.config
        number = permit.phone_e164
        host = format_host(cfg.host, cfg.port)
        local = format_host(cfg.local_host)
        offer = sdp_offer or build_offer(cfg.local_host, cfg.media_port, secrets.randbelow(10**9))
        spec = CallRequest(
            request_uri=f"sip:{number}@{host}",
            from_value=f"<sip:{caller_id or cfg.caller_id}@{local}>",
            to_value=f"<sip:{number}@{format_host(cfg.host)}>",
            ring_timeout_s=ring_timeout_s,
            setup_cap_s=setup_cap_s if setup_cap_s is not None else cfg.setup_cap_s,
            sdp_offer=offer,
            headers=headers,
        )
        assert self._driver is not None
        call = self._agent.invite(self.peer, spec, self._driver.now())
        handle = TrunkCall(self, call.call_id, permit)
        self._calls[call.call_id] = handle
        self._driver.flush()
        return handle

    def _hangup(self, call_id: str) -> None:
        self._act(lambda now: self._agent.hangup(call_id, now))

    def _on_event(self, event: Event) -> None:
        if isinstance(event, OptionsAnswered):
            self.last_options = event
            return
        if isinstance(event, RegistrationFinished):
            self.registration = event
            return
        call_id = getattr(event, "call_id", None)
        handle = self._calls.get(call_id) if isinstance(call_id, str) else None
        if handle is None:
            return
        handle._deliver(event)
        if isinstance(event, CallEnded):
            del self._calls[event.call_id]
            self._channels.release()

    @property
    def active_calls(self) -> int:
        return len(self._calls)
