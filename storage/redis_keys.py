"""Every Redis key and channel name the product uses, defined here and nowhere else."""

from __future__ import annotations

PREFIX = "dialer"


def agent_state(tenant_id: int, agent_id: int) -> str:
    """Hash: an agent's live state, reason code and since-time."""
    return f"{PREFIX}:t{tenant_id}:agent:{agent_id}:state"


def agents_by_state(tenant_id: int, state: str) -> str:
    """Set: agent ids currently in `state`."""
    return f"{PREFIX}:t{tenant_id}:agents:{state}"


def pacing_snapshot(campaign_id: int) -> str:
    """Hash: the latest pacing decision and its inputs, for the wallboard."""
    return f"{PREFIX}:campaign:{campaign_id}:pacing"


def campaign_owner(campaign_id: int) -> str:
    """String with TTL: the engine node that owns (runs) a campaign."""
    return f"{PREFIX}:campaign:{campaign_id}:owner"


def trunk_channels(trunk_id: int) -> str:
    """Counter: calls in progress on a trunk, shared by every engine node."""
    return f"{PREFIX}:trunk:{trunk_id}:channels"


def events_stream(tenant_id: int) -> str:
    """Stream: live events dashboards follow."""
    return f"{PREFIX}:t{tenant_id}:events"


DNC_CHANGES_CHANNEL = f"{PREFIX}:dnc:changes"
"""Pub/sub channel: a DNC entry was added or removed; every node refreshes within a second."""

HEALTH_KEY = f"{PREFIX}:health"
"""String: written by `dialer db status` to prove Redis answers."""
