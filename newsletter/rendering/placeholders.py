"""The small, safe placeholder syntax authors use to personalise an issue.

    {{ name }}                      the reader's name ("" when unknown)
    {{ name | default: "there" }}   with a fallback when the value is empty
    {{ email }}                     the reader's address
    {{ custom.city }}               a custom field of the reader (optional default, too)
    {{ unsubscribe_url }}  {{ preferences_url }}  {{ web_url }}   system links

Anything else between double braces is rejected when the issue is saved, so a mail never
goes out with a raw `{{ ... }}` in it. Values are filled in by plain string substitution;
there is no template engine, no logic and no attribute access on objects.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

READER_KEYS = ("name", "email")
SYSTEM_KEYS = ("unsubscribe_url", "preferences_url", "web_url")
CUSTOM_PREFIX = "custom."

PLACEHOLDER_RE = re.compile(
    r"\{\{\s*(?P<key>[A-Za-z_][\w.-]*)\s*"
    r'(?:\|\s*default\s*:\s*"(?P<default>[^"{}]*)"\s*)?\}\}'
)
# Anything that looks like a placeholder at all, well-formed or not.
BRACES_RE = re.compile(r"\{\{.*?\}\}|\{\{", re.DOTALL)
CUSTOM_KEY_RE = re.compile(r"^custom\.[A-Za-z_][\w-]*$")

HELP_TEXT = _(
    'Placeholders: {{ name }}, {{ name | default: "there" }}, {{ email }}, '
    "custom fields like {{ custom.city }} (a default works there too), and the links "
    "{{ unsubscribe_url }}, "
    "{{ preferences_url }} and {{ web_url }}."
)


@dataclass(frozen=True)
class Placeholder:
    key: str
    default: str | None = None

    @property
    def is_system(self):
        return self.key in SYSTEM_KEYS


def is_known_key(key):
    return key in READER_KEYS or key in SYSTEM_KEYS or bool(CUSTOM_KEY_RE.match(key))


def placeholder_from_match(match):
    return Placeholder(match["key"], match["default"])


def unknown_placeholders(text):
    """Every `{{ ... }}` in text that is not a well-formed, known placeholder."""
    unknown = []
    for match in BRACES_RE.finditer(text or ""):
        good = PLACEHOLDER_RE.fullmatch(match.group())
        if not good or not is_known_key(good["key"]):
            unknown.append(match.group())
    return unknown


def validate_placeholders(text):
    """Raise ValidationError naming each unknown or malformed placeholder in text."""
    unknown = list(dict.fromkeys(unknown_placeholders(text)))
    if not unknown:
        return
    listed = ", ".join(unknown)
    message = ngettext(
        "Unknown placeholder: %(list)s.",
        "Unknown placeholders: %(list)s.",
        len(unknown),
    ) % {"list": listed}
    raise ValidationError(f"{message} {HELP_TEXT}", code="unknown_placeholder")


def reader_value(placeholder, recipient):
    """The raw (unescaped) value of a placeholder for one reader, default applied."""
    key = placeholder.key
    if key in SYSTEM_KEYS:
        value = getattr(recipient, key, "")
    elif key.startswith(CUSTOM_PREFIX):
        value = custom_value(recipient.custom_fields, key.removeprefix(CUSTOM_PREFIX))
    else:
        value = getattr(recipient, key, "")
    value = "" if value is None else str(value)
    return value or (placeholder.default or "")


def custom_value(fields, name):
    """A custom field by name: the exact key first, else the same key in another case
    (imports once lower-cased every key; authors write them as they see them)."""
    fields = fields or {}
    if name in fields:
        return fields[name]
    folded = name.casefold()
    return next((value for key, value in fields.items() if key.casefold() == folded), "")


def custom_keys_in(text):
    """The custom field names the text's placeholders use, each once, in order."""
    names = (match["key"] for match in PLACEHOLDER_RE.finditer(text or ""))
    return list(
        dict.fromkeys(
            name.removeprefix(CUSTOM_PREFIX) for name in names if CUSTOM_KEY_RE.match(name)
        )
    )


def neutral_value(placeholder, urls):
    """The value shown to the public (archive, feeds): never any reader's data."""
    if placeholder.is_system:
        return urls.get(placeholder.key, "")
    return placeholder.default or ""


def canonical(placeholder):
    """The placeholder written back in its normal form, e.g. for the stored body_html."""
    if placeholder.default is None:
        return "{{ " + placeholder.key + " }}"
    return "{{ " + placeholder.key + ' | default: "' + placeholder.default + '" }}'
