"""The campaign's pacer: one controller per dial mode, switched live by the settings' `mode`.

Every mode's controller observes every event, so a switch (say progressive → predictive) keeps
what was learned; settings changes take effect at the next `decide`.
"""

from __future__ import annotations

from dataclasses import replace

from config.vocabulary import DialMode
from pacing import registry
from pacing.controller import Controller
from pacing.events import Decision, PacingEvent, PacingSettings, Snapshot


class Pacer:
    """A `Controller` whose mode follows the live settings."""

    name = "pacer"

    def __init__(self, settings: PacingSettings | None = None) -> None:
        self.settings = settings or PacingSettings()
        self.controllers: dict[DialMode, Controller] = {
            mode: registry.create(mode.value, replace(self.settings, mode=mode))
            for mode in DialMode
        }

    @property
    def mode(self) -> DialMode:
        return self.settings.mode

    def observe(self, event: PacingEvent) -> None:
        for controller in self.controllers.values():
            controller.observe(event)

    def configure(self, settings: PacingSettings) -> None:
        self.settings = settings
        for mode, controller in self.controllers.items():
            controller.configure(replace(settings, mode=mode))

    def decide(self, now: float, snapshot: Snapshot) -> Decision:
        return self.controllers[self.settings.mode].decide(now, snapshot)
