"""What a valid person's name (and any other text bound for a mail header) is."""

import importlib
import sys
import unicodedata

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError

from subscribers.models import Subscriber
from subscribers.validation import NAME_MAX_LENGTH, clean_name, one_line, validate_single_line

# CR/LF break the address header; NUL and ESC are C0 controls; NEL is a C1 control;
# U+2028/U+2029 are the line and paragraph separators that some mail code splits on.
BROKEN_NAMES = [
    "Ada\r\nBcc: victim@example.org",
    "Ada\nLovelace",
    "Ada\rLovelace",
    "Ada\x00Lovelace",
    "Ada\x1b[31mLovelace",
    "Ada\x85Lovelace",
    "Ada\u2028Lovelace",
    "Ada\u2029Lovelace",
    "Ada\tLovelace",
]
CONTROL_MESSAGE = "Line breaks and other control characters are not allowed here."


@pytest.mark.parametrize("value", BROKEN_NAMES)
def test_a_name_with_a_control_character_is_refused_with_a_message(value):
    with pytest.raises(ValidationError) as error:
        clean_name(value)
    assert error.value.messages == [CONTROL_MESSAGE]
    assert error.value.code == "control_characters"


@pytest.mark.parametrize("value", BROKEN_NAMES)
def test_the_field_validator_refuses_the_same_text(value):
    with pytest.raises(ValidationError):
        validate_single_line(value)


def test_a_name_may_hold_letters_of_any_script_and_joined_emoji():
    arabic = "\u0645\u064f\u062d\u064e\u0645\u0651\u064e\u062f"  # with its vowel marks
    name = f"  Zoë Ørsted-Łukasz 李小龍 {arabic} 👩\u200d🔬  "
    assert clean_name(name) == name.strip()
    validate_single_line(name)


def test_a_name_longer_than_the_field_is_refused_not_cut():
    with pytest.raises(ValidationError) as error:
        clean_name("a" * (NAME_MAX_LENGTH + 1))
    assert error.value.messages == [
        f"Please use at most {NAME_MAX_LENGTH} characters (it has {NAME_MAX_LENGTH + 1})."
    ]
    assert clean_name("a" * NAME_MAX_LENGTH) == "a" * NAME_MAX_LENGTH


def test_an_empty_or_missing_name_is_an_empty_name():
    assert clean_name("") == clean_name(None) == clean_name("   ") == ""


def test_exactly_the_control_separator_and_surrogate_characters_are_refused():
    expected = {
        code
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in ("Cc", "Zl", "Zp", "Cs")
    }
    refused = set()
    for code in range(sys.maxunicode + 1):
        try:
            validate_single_line(chr(code))
        except ValidationError:
            refused.add(code)
    assert refused == expected


def test_one_line_turns_stored_control_characters_into_spaces():
    assert one_line("Ada\r\nBcc: x@example.org") == "Ada Bcc: x@example.org"
    assert one_line(" Ada\u2028\x1bLovelace\t") == "Ada Lovelace"


@pytest.mark.django_db
def test_the_migration_repairs_names_stored_before_the_rule(make_subscription):
    broken = make_subscription("broken@example.org").subscriber
    fine = make_subscription("fine@example.org").subscriber
    Subscriber.objects.filter(pk=broken.pk).update(name="Ada\r\nBcc: x@example.org\u2028")
    Subscriber.objects.filter(pk=fine.pk).update(name="Zoë  Ørsted")
    migration = importlib.import_module("subscribers.migrations.0003_name_validators")
    migration.repair_names(django_apps, None)
    names = dict(Subscriber.objects.values_list("email", "name"))
    assert names == {
        "broken@example.org": "Ada Bcc: x@example.org",
        "fine@example.org": "Zoë  Ørsted",
    }
