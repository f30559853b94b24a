"""In-memory pair helper: our UAC core against our UAS core, time advanced by hand (no sleeps)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dialer.sip.agent import AgentConfig, UserAgent
from dialer.sip.dialog import LocalEndpoint
from dialer.sip.events import Event
from dialer.sip.sdp import build_offer
from dialer.sip.uac import CallRequest

UAC_ADDR = ("10.0.0.1", 5060)
UAS_ADDR = ("10.0.0.2", 5070)
Drop = Callable[[bytes, tuple[str, int]], bool]


@dataclass
class Pair:
    """Two agents wired back to back; `drop` decides which datagrams get lost."""

    uac: UserAgent
    uas: UserAgent
    now: float = 0.0
    drop: Drop = lambda data, dest: False
    uac_events: list[Event] = field(default_factory=list)
    uas_events: list[Event] = field(default_factory=list)
    wire: list[tuple[str, bytes]] = field(default_factory=list)

    def pump(self) -> None:
        """Deliver every pending datagram (both ways) until both sides are quiet."""
        for _ in range(1000):
            moved = False
            for src, dst, src_addr in (
                (self.uac, self.uas, UAC_ADDR),
                (self.uas, self.uac, UAS_ADDR),
            ):
                for data, dest in src.datagrams_to_send(self.now):
                    moved = True
                    self.wire.append((data.split(b" ", 1)[0].decode(), data))
                    if not self.drop(data, dest):
                        dst.receive(data, src_addr, self.now)
            self._collect()
            if not moved:
                return
        raise AssertionError("pair never went quiet")

    def _collect(self) -> None:
        for agent, sink in ((self.uac, self.uac_events), (self.uas, self.uas_events)):
            while (event := agent.next_event()) is not None:
                sink.append(event)

    def advance(self, seconds: float) -> None:
        """Move time forward, firing timers in deadline order and pumping after each."""
        end = self.now + seconds
        while True:
            deadlines = [
                d for d in (self.uac.next_deadline(), self.uas.next_deadline()) if d is not None
            ]
            due = min(deadlines, default=None)
            if due is None or due > end:
                break
            self.now = max(self.now, due)
            self.uac.handle_timer(self.now)
            self.uas.handle_timer(self.now)
            self.pump()
        self.now = end
        self.pump()

    def starts(self, prefix: str) -> list[bytes]:
        return [data for first, data in self.wire if data.startswith(prefix.encode())]


def make_pair(*, credentials: tuple[str, str] | None = None, reliable: bool = False) -> Pair:
    transport = "TCP" if reliable else "UDP"
    uac = UserAgent(
        AgentConfig(LocalEndpoint(*UAC_ADDR, transport), reliable=reliable, credentials=credentials)
    )
    uas = UserAgent(
        AgentConfig(
            LocalEndpoint(*UAS_ADDR, transport, contact_user="carrier"),
            reliable=reliable,
            accept_calls=True,
        )
    )
    return Pair(uac, uas)


def call_spec(
    number: str = "+15551234567", ring_timeout_s: float = 20.0, setup_cap_s: float = 30.0
) -> CallRequest:
    return CallRequest(
        request_uri=f"sip:{number}@{UAS_ADDR[0]}:{UAS_ADDR[1]}",
        from_value="<sip:+15550000000@10.0.0.1>",
        to_value=f"<sip:{number}@{UAS_ADDR[0]}>",
        ring_timeout_s=ring_timeout_s,
        setup_cap_s=setup_cap_s,
        sdp_offer=build_offer("10.0.0.1", 40000, 1),
    )
