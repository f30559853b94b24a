"""Pacing controllers by name (preview, progressive, power, predictive, adapt, erlang)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from config.vocabulary import DialMode
from pacing.baselines import AdaptController, CampaignFacts, ErlangController
from pacing.basic import PowerController, PreviewController, ProgressiveController
from pacing.controller import Controller
from pacing.events import PacingSettings
from pacing.predictive import PredictiveController

Factory = Callable[[PacingSettings, CampaignFacts], Controller]

REGISTRY: dict[str, Factory] = {
    "preview": lambda s, f: PreviewController(replace(s, mode=DialMode.PREVIEW)),
    "progressive": lambda s, f: ProgressiveController(replace(s, mode=DialMode.PROGRESSIVE)),
    "power": lambda s, f: PowerController(replace(s, mode=DialMode.POWER)),
    "predictive": lambda s, f: PredictiveController(replace(s, mode=DialMode.PREDICTIVE)),
    "adapt": lambda s, f: AdaptController(s),
    "erlang": lambda s, f: ErlangController(s, f),
}


def create(
    name: str, settings: PacingSettings | None = None, facts: CampaignFacts | None = None
) -> Controller:
    """A new controller of the named policy (KeyError names the known ones)."""
    try:
        factory = REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown pacing policy {name!r}; known: {', '.join(REGISTRY)}") from None
    return factory(settings or PacingSettings(), facts or CampaignFacts())


def for_mode(mode: DialMode, settings: PacingSettings | None = None) -> Controller:
    """The product controller for a campaign's dial mode."""
    return create(mode.value, replace(settings or PacingSettings(), mode=mode))
