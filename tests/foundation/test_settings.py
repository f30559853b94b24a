"""Settings: precedence, fallbacks, validation messages naming the key, masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import SettingsError, load_settings
from config.settings import settings_as_dict


def test_defaults() -> None:
    settings = load_settings(environ={})
    assert settings.data_dir == Path("./var")
    assert settings.database_url is None
    assert settings.api.port == 8080


def test_toml_then_environment_precedence(tmp_path: Path) -> None:
    toml = tmp_path / "dialer.toml"
    toml.write_text('data_dir = "/srv/a"\n[api]\nport = 9000\nhost = "0.0.0.0"\n')
    env = {"DIALER_CONFIG": str(toml), "DIALER_API__PORT": "9100"}
    settings = load_settings(environ=env)
    assert settings.data_dir == Path("/srv/a")
    assert settings.api.host == "0.0.0.0"
    assert settings.api.port == 9100  # environment beats the file


def test_conventional_urls_are_fallbacks() -> None:
    env = {"DATABASE_URL": "postgresql://a@h/db", "REDIS_URL": "redis://r:6379/0"}
    settings = load_settings(environ=env)
    assert settings.database_url == "postgresql://a@h/db"
    assert settings.redis_url == "redis://r:6379/0"
    env["DIALER_DATABASE_URL"] = "postgresql://b@h/db"
    assert load_settings(environ=env).database_url == "postgresql://b@h/db"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DIALER_API__PORT": "eighty"}, "api.port (DIALER_API__PORT): expected int"),
        ({"DIALER_LOG__JSON": "maybe"}, "log.json (DIALER_LOG__JSON): expected bool"),
        ({"DIALER_API__PROT": "1"}, "api.prot: unknown setting"),
        ({"DIALER_NOPE": "1"}, "nope: unknown setting"),
    ],
)
def test_invalid_values_name_the_key(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(environ=env)


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    toml = tmp_path / "bad.toml"
    toml.write_text("[api\nport=1")
    with pytest.raises(SettingsError, match=str(toml)):
        load_settings(config_file=toml, environ={})


def test_secrets_are_masked() -> None:
    env = {"DIALER_DATABASE_URL": "postgresql://u:hunter2@db/x", "DIALER_API__WEBHOOK_SECRET": "s3"}
    shown = settings_as_dict(load_settings(environ=env))
    assert shown["database_url"] == "postgresql://u:***@db/x"
    assert shown["api"]["webhook_secret"] == "***"
    assert "hunter2" not in str(shown)
