"""The placeholder syntax: what is accepted, what is rejected, and how values fill in."""

import pytest
from django.core.exceptions import ValidationError

from newsletter.rendering import Recipient, fill_html, render_markdown, validate_placeholders
from newsletter.rendering.placeholders import Placeholder, reader_value, unknown_placeholders


@pytest.mark.parametrize(
    "text",
    [
        "Hi {{ name }}",
        'Hi {{ name | default: "there" }}',
        "{{email}}",
        '{{ custom.city }} {{ custom.plan | default: "free" }}',
        "[unsubscribe]({{ unsubscribe_url }}) {{ preferences_url }} {{ web_url }}",
        "No placeholders at all, just { braces }.",
    ],
)
def test_known_placeholders_are_accepted(text):
    validate_placeholders(text)  # raises on anything unknown
    assert unknown_placeholders(text) == []


@pytest.mark.parametrize(
    ("text", "culprit"),
    [
        ("Hi {{ first_name }}", "{{ first_name }}"),
        ("Hi {{ name | upper }}", "{{ name | upper }}"),
        ("Hi {{ name | default: there }}", "{{ name | default: there }}"),
        ("{{ custom. }}", "{{ custom. }}"),
        ("{{ user.password }}", "{{ user.password }}"),
        ("{% if x %}", None),
        ("Hi {{ name", "{{"),
    ],
)
def test_unknown_or_malformed_placeholders_are_rejected_with_their_text(text, culprit):
    if culprit is None:
        # Template tags are not our syntax, but they are just text: nothing to fill.
        assert unknown_placeholders(text) == []
        return
    with pytest.raises(ValidationError) as error:
        validate_placeholders(text)

    message = error.value.messages[0]
    assert culprit in message
    assert "{{ unsubscribe_url }}" in message  # the help lists what is allowed


def test_every_unknown_placeholder_is_named_once():
    with pytest.raises(ValidationError) as error:
        validate_placeholders("{{ a }} {{ b }} {{ a }}")

    message = error.value.messages[0]
    assert message.startswith("Unknown placeholders: {{ a }}, {{ b }}.")


def test_reader_values_use_the_default_only_when_empty():
    with_name = Recipient(email="e@example.org", name="Eve")
    without = Recipient(email="e@example.org")

    assert reader_value(Placeholder("name", "there"), with_name) == "Eve"
    assert reader_value(Placeholder("name", "there"), without) == "there"
    assert reader_value(Placeholder("name"), without) == ""
    assert reader_value(Placeholder("custom.plan", "free"), without) == "free"
    assert reader_value(Placeholder("email"), without) == "e@example.org"


def test_stored_html_keeps_placeholders_in_canonical_form():
    stored = render_markdown('Hi {{name|default:"you & me"}} at [site]({{ custom.site }})')

    assert "Hi {{ name | default: &quot;you &amp; me&quot; }}" in stored
    assert 'href="{{ custom.site }}"' in stored


def test_fill_html_personalises_stored_html_for_one_reader():
    stored = render_markdown('Hi {{ name | default: "you & me" }}, **{{ custom.plan }}**')

    filled = fill_html(stored, Recipient(email="e@example.org", custom_fields={"plan": "<pro>"}))

    assert filled == "<p>Hi you &amp; me, <strong>&lt;pro&gt;</strong></p>\n"
