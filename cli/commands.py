"""The list of command groups the `dialer` parser is built from (one module per group)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from cli import (
    bench,
    cmd_call,
    cmd_campaigns,
    cmd_compliance,
    cmd_config,
    cmd_db,
    cmd_demo,
    cmd_dnc,
    cmd_lists,
    cmd_sim,
    cmd_sms,
)

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

REGISTRY: list[Register] = [
    cmd_config.register,
    cmd_db.register,
    cmd_campaigns.register,
    cmd_lists.register,
    cmd_compliance.register,
    cmd_dnc.register,
    cmd_demo.register,
    cmd_sim.register,
    cmd_call.register,
    cmd_sms.register,
    bench.register,
]
