"""The typed settings tree: defaults, then a TOML file, then DIALER_* environment variables.

This module is the only reader of the process environment. Nested keys are written with a
double underscore in the environment (``DIALER_API__PORT``) and as tables in TOML (``[api] port``).
``DATABASE_URL`` and ``REDIS_URL`` are honoured as fallbacks for the ``DIALER_`` forms.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ENV_PREFIX = "DIALER_"
CONFIG_FILE_ENV = "DIALER_CONFIG"
FALLBACK_ENV = {"database_url": "DATABASE_URL", "redis_url": "REDIS_URL"}
MASK = "***"


class SettingsError(ValueError):
    """A setting is missing, unknown or has an invalid value; the message names the key."""


def secret(default: Any = None) -> Any:
    """Declare a field whose value `dialer config show` masks."""
    return field(default=default, metadata={"secret": True})


@dataclass(frozen=True)
class StorageSettings:
    """Connection pool and embedded-server tuning."""

    pool_min_size: int = 1
    pool_max_size: int = 10
    embedded_pg_system_user: str = "dialer_pg"
    embedded_start_timeout_s: float = 60.0


@dataclass(frozen=True)
class ImportSettings:
    """List import tuning."""

    workers: int = 0  # 0 = one per CPU core
    chunk_rows: int = 5000
    error_sample_size: int = 20


@dataclass(frozen=True)
class ApiSettings:
    """The HTTP API and web pages."""

    host: str = "127.0.0.1"
    port: int = 8080
    webhook_secret: str | None = secret()


@dataclass(frozen=True)
class LogSettings:
    """Structured logging on stderr."""

    level: str = "INFO"
    json: bool = False


@dataclass(frozen=True)
class SmsSettings:
    """SMS over SMPP: the SMSC bind, send rates, the outbox and opt-out handling."""

    smsc_host: str = "127.0.0.1"
    smsc_port: int = 2775
    system_id: str = "dialer"
    password: str | None = secret()
    system_type: str = ""
    source_addr: str = ""
    tls: bool = False
    window: int = 50
    concatenation: str = "udh8"  # udh8, udh16 or sar
    want_receipts: bool = True
    response_timeout_s: float = 10.0
    enquire_link_interval_s: float = 30.0
    bind_rate_per_s: float = 0.0  # submits per second on one bind; 0 = only the window limits
    destination_interval_s: float = 1.0  # at least this long between two messages to one number
    opt_out_keywords: str = "STOP,UNSUBSCRIBE,СТОП,ОТПИСКА"  # comma-separated, case-insensitive
    opt_out_confirmation: str = (
        "You have been unsubscribed and will receive no more messages. Вы отписаны от рассылки."
    )
    node_id: str = ""  # outbox owner name; empty = host:pid:random (unique per process)
    outbox_poll_s: float = 0.5
    outbox_takeover_every_s: float = 10.0
    campaign_batch: int = 100  # leads leased per round by `dialer sms campaign run`
    lead_lease_s: float = 300.0

    @property
    def keywords(self) -> tuple[str, ...]:
        return tuple(k.strip() for k in self.opt_out_keywords.split(",") if k.strip())


@dataclass(frozen=True)
class Settings:
    """The whole effective configuration of one process."""

    data_dir: Path = Path("./var")
    database_url: str | None = secret()
    redis_url: str | None = secret()
    default_tenant: str = "default"
    storage: StorageSettings = field(default_factory=StorageSettings)
    imports: ImportSettings = field(default_factory=ImportSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    log: LogSettings = field(default_factory=LogSettings)
    sms: SmsSettings = field(default_factory=SmsSettings)

    @property
    def pg_dir(self) -> Path:
        return self.data_dir / "pg"

    @property
    def redis_dir(self) -> Path:
        return self.data_dir / "redis"


def load_settings(
    config_file: Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build the settings from defaults, an optional TOML file and the environment."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = config_file or (Path(env[CONFIG_FILE_ENV]) if env.get(CONFIG_FILE_ENV) else None)
    if path is not None:
        _merge(values, _read_toml(path))
    _merge(values, _from_environment(env))
    return _build(Settings, values, prefix="")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise SettingsError(f"config file {path}: not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path}: {exc}") from exc


def _from_environment(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, fallback in FALLBACK_ENV.items():
        if env.get(fallback):
            values[key] = env[fallback]
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_FILE_ENV:
            continue
        parts = name[len(ENV_PREFIX) :].lower().split("__")
        target = values
        for part in parts[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise SettingsError(f"{name}: {part} is not a section")
        target[parts[-1]] = raw
    return values


def _merge(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = dict(value) if isinstance(value, Mapping) else value


T = typing.TypeVar("T")


def _build(cls: type[T], values: Mapping[str, Any], prefix: str) -> T:
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in values:
        if key not in known:
            choices = ", ".join(sorted(known))
            raise SettingsError(f"{prefix}{key}: unknown setting (known: {choices})")
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        hint = hints[name]
        key = f"{prefix}{name}"
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, Mapping):
                raise SettingsError(f"{key}: expected a section, got {value!r}")
            kwargs[name] = _build(hint, value, prefix=f"{key}.")  # type: ignore[arg-type]
        else:
            kwargs[name] = _coerce(key, hint, value)
    return cls(**kwargs)


def _coerce(key: str, hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None or value == "":
            return None
        return _coerce(key, args[0], value)
    try:
        return _coerce_scalar(hint, value)
    except (TypeError, ValueError) as exc:
        expected = getattr(hint, "__name__", hint)
        raise SettingsError(f"{key} ({env_name(key)}): expected {expected}, got {value!r}") from exc


def _coerce_scalar(hint: Any, value: Any) -> Any:
    if hint is bool:
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError(value)
    if hint is int:
        if isinstance(value, bool):
            raise TypeError(value)
        return int(str(value).strip())
    if hint is float:
        return float(str(value).strip())
    if hint is Path:
        return Path(str(value)).expanduser()
    if hint is str:
        if not isinstance(value, str):
            raise TypeError(value)
        return value
    raise TypeError(f"unsupported setting type {hint!r}")


def env_name(key: str) -> str:
    """The environment variable that sets a dotted settings key."""
    return ENV_PREFIX + key.upper().replace(".", "__")


def mask_url(url: str) -> str:
    """Hide the password in a connection URL."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", f":{MASK}@")
    return urlunsplit(parts._replace(netloc=netloc))


def settings_as_dict(settings: Any, *, mask_secrets: bool = True) -> dict[str, Any]:
    """The settings as plain JSON-ready values, secrets masked."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if dataclasses.is_dataclass(value):
            out[f.name] = settings_as_dict(value, mask_secrets=mask_secrets)
        elif value is not None and mask_secrets and f.metadata.get("secret"):
            is_url = isinstance(value, str) and "://" in value
            out[f.name] = mask_url(value) if is_url else MASK
        else:
            out[f.name] = str(value) if isinstance(value, Path) else value
    return out
