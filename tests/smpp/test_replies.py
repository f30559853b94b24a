"""Mobile-originated messages: opt-out keywords and reassembly of long replies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dialer.smpp.pdu import CommandId, SmPdu
from dialer.smpp.replies import (
    InboundAssembler,
    InboundMessageReceived,
    OptOutDetector,
    OptOutReceived,
)
from dialer.smpp.segmentation import DATA_CODING, Concatenation, build_parts, plan

AT = datetime(2026, 11, 22, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("STOP", "STOP"),
        ("stop", "STOP"),
        (" Stop. ", "STOP"),
        ("UNSUBSCRIBE!", "UNSUBSCRIBE"),
        ("стоп", "СТОП"),
        ("СТОП пожалуйста", "СТОП"),
        ("Отписка", "ОТПИСКА"),
        ("please stop", None),
        ("stopwatch", None),
        ("", None),
        ("Thanks!", None),
    ],
)
def test_default_keywords(text: str, keyword: str | None) -> None:
    assert OptOutDetector().keyword_in(text) == keyword


def test_keywords_are_configurable() -> None:
    detector = OptOutDetector(("ARRET",))
    assert detector.keyword_in("arret") == "ARRET"
    assert detector.keyword_in("STOP") is None


def test_classify_gives_events() -> None:
    detector = OptOutDetector()
    assert detector.classify("7900", "DIALER", "Стоп", AT) == OptOutReceived(
        "7900", "DIALER", "СТОП", "Стоп", AT
    )
    assert detector.classify("7900", "DIALER", "who is this?", AT) == InboundMessageReceived(
        "7900", "DIALER", "who is this?", AT
    )


def test_long_reply_is_reassembled_in_any_order() -> None:
    text = "Отписка " + "очень длинное сообщение " * 5
    message = plan(text, Concatenation.UDH8)
    parts = build_parts(message, Concatenation.UDH8, reference=9)
    pdus = [
        SmPdu(
            CommandId.DELIVER_SM,
            1,
            "DIALER",
            part.short_message,
            "7900",
            esm_class=part.esm_class,
            data_coding=DATA_CODING[message.encoding],
        )
        for part in parts
    ]
    assembler = InboundAssembler()
    assert [assembler.add(pdu, 0.0) for pdu in reversed(pdus[1:])] == [None] * (len(pdus) - 1)
    assert assembler.add(pdus[0], 0.0) == text


def test_incomplete_reply_is_released_after_its_age() -> None:
    parts = build_parts(plan("x" * 200), Concatenation.UDH8, reference=1)
    assembler = InboundAssembler(max_age_s=10.0)
    assert (
        assembler.add(
            SmPdu(CommandId.DELIVER_SM, 1, "D", parts[0].short_message, "7900", esm_class=0x40), 0.0
        )
        is None
    )
    assert assembler.expire(5.0) == []
    assert assembler.expire(11.0) == ["x" * 153]
