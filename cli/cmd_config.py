"""`dialer config show`: the effective settings, secrets masked."""

from __future__ import annotations

import argparse

from cli.output import emit
from config import Settings
from config.settings import settings_as_dict


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("config", help="inspect settings")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = actions.add_parser("show", help="print the effective settings (secrets masked)")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(handler=show_settings)


def show_settings(args: argparse.Namespace, settings: Settings) -> int:
    emit(settings_as_dict(settings), as_json=args.json)
    return 0
