"""Campaign-level checks: set-up that makes every contact of a campaign refused until it is fixed.

No-answer timeout at least 15 s (voice); power/predictive modes under `us`/`uk` need a safe-harbour
message; a caller ID is present (E.164 for voice, E.164 or a sender name for SMS).
"""

from __future__ import annotations

import re

from compliance.facts import CampaignRules
from compliance.rulesets import RuleSet
from compliance.verdict import Reason
from config.vocabulary import Channel

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_SENDER_NAME = re.compile(r"^[A-Za-z0-9 .\-]{1,11}$")


def campaign_problems(rules: CampaignRules, rs: RuleSet, channel: Channel) -> tuple[Reason, ...]:
    """Every set-up problem of the campaign for this channel under this rule set (empty: fine)."""
    found: list[Reason] = []
    voice = channel is not Channel.SMS
    if voice and rules.no_answer_timeout_s < rs.min_no_answer_timeout_s:
        found.append(
            Reason(
                "campaign.no_answer_timeout",
                f"{rules.no_answer_timeout_s:g} s is under {rs.min_no_answer_timeout_s:g} s "
                "(counted from the first 180/183)",
            )
        )
    needs_message = channel is Channel.CALL and rules.dial_mode in rs.safe_harbour_modes
    if needs_message and not rules.safe_harbour_message:
        found.append(
            Reason(
                "campaign.safe_harbour",
                f"{rules.dial_mode.value} mode under {rs.name.value} needs a safe-harbour message",
            )
        )
    caller_id = rules.caller_id or ""
    if not caller_id:
        found.append(Reason("campaign.caller_id", "no caller ID set"))
    elif voice and not _E164.match(caller_id):
        found.append(Reason("campaign.caller_id", f"caller ID {caller_id!r} is not E.164"))
    elif not voice and not (_E164.match(caller_id) or _SENDER_NAME.match(caller_id)):
        found.append(Reason("campaign.caller_id", f"sender {caller_id!r} is not E.164 or a name"))
    return tuple(found)
