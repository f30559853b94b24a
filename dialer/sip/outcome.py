"""The glossary's call outcome for a SIP final response, reading the Reason header's Q.850 cause."""

from __future__ import annotations

from config.vocabulary import CallOutcome
from dialer.sip.fields import NO_ANSWER_Q850_CAUSES

BUSY_CODES = frozenset({486, 600})
REJECTED_CODES = frozenset({403, 603})
INVALID_NUMBER_CODES = frozenset({404, 410, 484})
NO_ANSWER_CANDIDATES = frozenset({408, 480})
UNAVAILABLE_CODES = frozenset({480, 503})


def outcome_for(sip_code: int, q850: int | None = None) -> CallOutcome:
    """Map a final response code (and the Q.850 cause of its Reason header) to an outcome.

    487 is not mapped here: it is `no-answer` only when our own ring timeout cancelled the call,
    which the call state machine knows and this table does not.
    """
    if 200 <= sip_code < 300:
        return CallOutcome.ANSWERED
    if sip_code in BUSY_CODES:
        return CallOutcome.BUSY
    if sip_code in NO_ANSWER_CANDIDATES and q850 in NO_ANSWER_Q850_CAUSES:
        return CallOutcome.NO_ANSWER
    if sip_code in REJECTED_CODES:
        return CallOutcome.REJECTED
    if sip_code in UNAVAILABLE_CODES:
        return CallOutcome.UNAVAILABLE
    if sip_code in INVALID_NUMBER_CODES:
        return CallOutcome.INVALID_NUMBER
    return CallOutcome.FAILED
