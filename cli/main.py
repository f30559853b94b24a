"""Entry point of the `dialer` command: builds the parser from the command modules and runs one."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from campaigns.models import ValidationError
from campaigns.service import NotFound
from cli import commands
from cli.context import CommandError, configure_logging
from config import SettingsError, load_settings
from storage.errors import StorageError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dialer", description=__doc__)
    parser.add_argument("--config", type=Path, help="TOML settings file (or DIALER_CONFIG)")
    parser.add_argument("--tenant", default=None, help="tenant name (default: 'default')")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in commands.REGISTRY:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
    except SettingsError as exc:
        print(f"dialer: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings)
    try:
        code: int = args.handler(args, settings)
    except CommandError as exc:
        print(f"dialer: {exc}", file=sys.stderr)
        return exc.exit_code
    except (ValidationError, NotFound) as exc:
        print(f"dialer: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:
        print(f"dialer: storage: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("dialer: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
