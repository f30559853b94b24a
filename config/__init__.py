"""Typed settings and the shared vocabulary: the lowest package, importing nothing else of ours."""

from config.settings import Settings, SettingsError, load_settings

__all__ = ["Settings", "SettingsError", "load_settings"]
