"""SMS campaign message templates: lead fields in braces, checked when the campaign is set up.

Pure: no IO. `Hi {first_name|there}, your code is {custom.code}` names lead columns (see
`LEAD_FIELDS`) or keys of the lead's `custom` object; `|text` is the value when the lead has none
(it may not contain braces, brackets, `:` or `!`).
Anything else, a conversion (`{x!r}`), a format spec (`{x:>10}`), attribute or index access
(`{x.__class__}`, `{x[0]}`) or an unbalanced brace, is a `ValidationError` at set-up, so a
running campaign never fails on a template. `{{` and `}}` are literal braces.
"""

from __future__ import annotations

import string
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from campaigns.models import ValidationError

SETTINGS_KEY = "sms_template"
CUSTOM_PREFIX = "custom."
LEAD_FIELDS = frozenset(
    {"first_name", "last_name", "full_name", "phone", "email", "country", "region", "postal_code"}
)
MAX_TEMPLATE_CHARS = 1600


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    default: str


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template: literal text and fields, alternating."""

    source: str
    pieces: tuple[str | Field, ...]

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(p.name for p in self.pieces if isinstance(p, Field))

    def render(self, lead: Mapping[str, Any]) -> str:
        """The text for one lead (`lead` has lead columns and `custom`); never raises."""
        out: list[str] = []
        for piece in self.pieces:
            out.append(piece if isinstance(piece, str) else _value(piece, lead))
        return "".join(out)


def _value(field: Field, lead: Mapping[str, Any]) -> str:
    if field.name.startswith(CUSTOM_PREFIX):
        custom = lead.get("custom") or {}
        value = custom.get(field.name[len(CUSTOM_PREFIX) :]) if isinstance(custom, dict) else None
    elif field.name == "full_name":
        parts = [lead.get("first_name"), lead.get("last_name")]
        value = " ".join(str(p) for p in parts if p) or None
    else:
        value = lead.get(field.name)
    return field.default if value is None or value == "" else str(value)


def parse_template(text: str, custom_keys: Collection[str] = ()) -> Template:
    """Check a template against the lead fields (and the campaign's custom keys)."""
    if not text.strip():
        raise ValidationError("template", "is empty")
    if len(text) > MAX_TEMPLATE_CHARS:
        raise ValidationError("template", f"is longer than {MAX_TEMPLATE_CHARS} characters")
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        hint = "write {{ and }} for literal braces"
        raise ValidationError("template", f"{exc} ({hint})") from None
    pieces: list[str | Field] = []
    for literal, name, spec, conversion in parsed:
        if literal:
            pieces.append(literal)
        if name is None:
            continue
        pieces.append(_field(name, spec, conversion, custom_keys))
    return Template(text, tuple(pieces))


def _field(name: str, spec: str | None, conversion: str | None, custom: Collection[str]) -> Field:
    shown = "{" + name + "}"
    if conversion or spec:
        raise ValidationError("template", f"{shown}: conversions and format specs are not allowed")
    field_name, _, default = name.partition("|")
    field_name = field_name.strip()
    if field_name.startswith(CUSTOM_PREFIX):
        key = field_name[len(CUSTOM_PREFIX) :]
        if key not in custom:
            known = ", ".join(sorted(custom)) or "none"
            raise ValidationError(
                "template", f"{shown}: no lead of the campaign has custom field {key!r} ({known})"
            )
        return Field(field_name, default)
    if field_name not in LEAD_FIELDS:
        choices = ", ".join(sorted(LEAD_FIELDS))
        raise ValidationError(
            "template", f"{shown}: unknown field (lead fields: {choices}; or custom.KEY)"
        )
    return Field(field_name, default)
