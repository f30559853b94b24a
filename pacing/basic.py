"""Preview, progressive (1:1) and power (fixed ratio) controllers."""

from __future__ import annotations

from config.vocabulary import DialMode
from pacing.controller import backed_calls, cap_note, clamp_calls
from pacing.events import Decision, PacingEvent, PacingSettings, Snapshot


class PreviewController:
    """One lead per ready agent: the engine reserves the agent, who reviews it, then dials it."""

    name = "preview"
    mode = DialMode.PREVIEW

    def __init__(self, settings: PacingSettings | None = None) -> None:
        self.settings = settings or PacingSettings(mode=DialMode.PREVIEW)

    def observe(self, event: PacingEvent) -> None:
        return None

    def configure(self, settings: PacingSettings) -> None:
        self.settings = settings

    def decide(self, now: float, snapshot: Snapshot) -> Decision:
        wanted = snapshot.agents_ready
        calls = clamp_calls(wanted, snapshot, self.settings, respect_budget=False)
        note = cap_note(wanted, calls)
        text = f"{snapshot.agents_ready} agents ready → {calls} leads to preview{note}"
        return Decision(calls, text, 1.0)


class ProgressiveController:
    """Exactly one call in flight per ready agent: never abandons (AMD errors aside)."""

    name = "progressive"
    mode = DialMode.PROGRESSIVE

    def __init__(self, settings: PacingSettings | None = None) -> None:
        self.settings = settings or PacingSettings(mode=DialMode.PROGRESSIVE)

    def observe(self, event: PacingEvent) -> None:
        return None

    def configure(self, settings: PacingSettings) -> None:
        self.settings = settings

    def decide(self, now: float, snapshot: Snapshot) -> Decision:
        wanted = backed_calls(snapshot)
        calls = clamp_calls(wanted, snapshot, self.settings)
        text = (
            f"{snapshot.agents_ready} agents ready, {snapshot.calls_in_flight} calls in flight"
            f" → place {calls}{cap_note(wanted, calls)}"
        )
        return Decision(calls, text, 1.0)


class PowerController:
    """Keeps round(ratio × ready agents) calls in flight (ratio clamped to [min, max] ratio)."""

    name = "power"
    mode = DialMode.POWER

    def __init__(
        self, settings: PacingSettings | None = None, *, respect_budget: bool = True
    ) -> None:
        self.settings = settings or PacingSettings(mode=DialMode.POWER)
        self.respect_budget = respect_budget

    def observe(self, event: PacingEvent) -> None:
        return None

    def configure(self, settings: PacingSettings) -> None:
        self.settings = settings

    def decide(self, now: float, snapshot: Snapshot) -> Decision:
        s = self.settings
        ratio = min(max(s.ratio, s.min_ratio), s.max_ratio)
        target = round(ratio * snapshot.agents_ready)
        wanted = max(0, target - snapshot.calls_in_flight - snapshot.humans_waiting)
        calls = clamp_calls(wanted, snapshot, s, respect_budget=self.respect_budget)
        text = (
            f"ratio {ratio:.2f} × {snapshot.agents_ready} ready = {target} lines,"
            f" {snapshot.calls_in_flight} in flight → place {calls}{cap_note(wanted, calls)}"
        )
        return Decision(calls, text, ratio)
