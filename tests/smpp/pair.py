"""In-memory pairing of our ESME session core with our SMSC core, stepped with explicit time."""

from __future__ import annotations

from typing import TypeVar

from dialer.smpp import events as ev
from dialer.smpp.session import Session, SessionConfig
from dialer.smpp.smsc import SmscConfig, SmscSession, SmscState

E = TypeVar("E")


class Pair:
    """Shuttles bytes between the two cores; `events` collects the ESME's events in order."""

    def __init__(self, smsc: SmscConfig | None = None, esme: SessionConfig | None = None) -> None:
        self.now = 0.0
        self.state = SmscState(smsc or SmscConfig())
        self.smsc = SmscSession(self.state, self.now)
        self.esme = Session(esme or SessionConfig("dialer", "secret", window=10), self.now)
        self.events: list[ev.Event] = []
        self.auto_ack = True

    def pump(self) -> None:
        for _ in range(20):
            to_smsc = self.esme.data_to_send()
            if to_smsc and not self.smsc.should_close:
                self.smsc.receive_data(to_smsc, self.now)
            self.smsc.handle_timer(self.now)
            to_esme = self.smsc.data_to_send()
            if to_esme:
                self.esme.receive_data(to_esme, self.now)
            self.esme.handle_timer(self.now)
            new = self.esme.events()
            self.events.extend(new)
            for event in new:
                if self.auto_ack and isinstance(event, ev.DeliverReceived):
                    self.esme.acknowledge(event.pdu.sequence)
            if not to_smsc and not to_esme and not new:
                return

    def advance(self, seconds: float, step_s: float = 0.001) -> None:
        end = self.now + seconds
        while self.now < end:
            self.now = min(end, self.now + step_s)
            self.pump()

    def bind(self) -> None:
        self.esme.bind(self.now)
        self.pump()

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]
