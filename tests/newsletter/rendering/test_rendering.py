"""The rendered mail: themed HTML with inlined CSS, a readable text part, placeholders."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives

from newsletter.rendering import Recipient, render_issue
from tests.factories import build_issue, build_newsletter

READER = Recipient(
    email="eve@example.org",
    name="Eve",
    custom_fields={"city": "Köln"},
    unsubscribe_url="https://testserver/u/unsub-token/",
    preferences_url="https://testserver/preferences/pref-token/",
)
BODY = """# Big news

Hello {{ name | default: "there" }} from {{ custom.city | default: "somewhere" }}.

Read [the report](https://example.com/report) or visit www.example.org today.

- first point
- second point

> A quote worth keeping.

| Item | Price |
|------|------:|
| Tea  | 3.50  |

A note.[^1]

[^1]: The footnote text.
"""


@pytest.fixture
def rendered():
    issue = build_issue(
        subject="News for {{ name }}", preview_text="Inside: {{ name }}", body_markdown=BODY
    )
    return render_issue(issue)


def test_the_subject_is_personalised(rendered):
    subject, _, _ = rendered.personalise(READER)

    assert subject == "News for Eve"


def test_the_html_part_has_body_footer_and_links(rendered):
    _, mail_html, _ = rendered.personalise(READER)

    assert "<h1" in mail_html and "Big news" in mail_html
    assert "Hello Eve from Köln." in mail_html
    assert 'href="https://testserver/u/unsub-token/"' in mail_html
    assert 'href="https://testserver/preferences/pref-token/"' in mail_html
    assert "Main Street 1, 10115 Berlin" in mail_html
    assert 'href="https://example.com/report"' in mail_html
    assert 'href="http://www.example.org"' in mail_html  # autolinked


def test_css_is_inlined_into_style_attributes(rendered):
    _, mail_html, _ = rendered.personalise(READER)

    assert re.search(r'<td class="content" style="[^"]*padding: 8px 32px', mail_html)
    assert re.search(r'<a href="https://example.com/report" style="color: #1a73e8', mail_html)
    # Only what cannot be inlined stays in the one <style> block: the media queries.
    style_block = re.search(r"<style>(.*?)</style>", mail_html, re.DOTALL).group(1)
    assert "prefers-color-scheme: dark" in style_block
    assert "max-width: 620px" in style_block
    assert ".topbar {" not in style_block


def test_it_is_dark_mode_aware_and_responsive(rendered):
    _, mail_html, _ = rendered.personalise(READER)

    assert '<meta name="color-scheme" content="light dark">' in mail_html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in mail_html
    assert 'role="presentation"' in mail_html


def test_the_preheader_is_hidden_and_personalised(rendered):
    _, mail_html, _ = rendered.personalise(READER)

    preheader = re.search(r'<div class="preheader" style="([^"]*)">Inside: Eve', mail_html)
    assert preheader and "display: none" in preheader.group(1)


def test_the_web_version_link_points_to_the_archive(rendered):
    _, mail_html, text = rendered.personalise(READER)

    assert 'href="http://testserver/weekly/first-issue/"' in mail_html
    assert "http://testserver/weekly/first-issue/" in text


def test_a_private_archive_gets_no_web_version_link():
    issue = build_issue(newsletter=build_newsletter(archive_public=False))

    _, mail_html, text = render_issue(issue).personalise(READER)

    assert "/weekly/first-issue/" not in mail_html + text
    assert "View this mail in your browser" not in mail_html


def test_the_text_part_is_readable_with_links_listed(rendered):
    _, _, text = rendered.personalise(READER)

    assert "Big news\n========" in text
    assert "Hello Eve from Köln." in text
    assert "Read the report [1] or visit www.example.org today." in text
    assert "- first point\n- second point" in text
    assert "> A quote worth keeping." in text
    assert "Item | Price" in text and "Tea | 3.50" in text
    assert "A note.[^1]" in text and "1. The footnote text." in text
    assert "[1] https://example.com/report" in text
    assert "https://testserver/u/unsub-token/" in text
    assert "<" not in text.replace("<Bits>", "")


def test_placeholder_values_are_html_escaped_in_html_but_not_in_text():
    issue = build_issue(
        subject="Hi {{ name }}", body_markdown="Hi {{ name }}, [x](https://e.com/?n={{ name }})"
    )
    evil = Recipient(email="x@example.org", name='<script>alert("x")</script> & Co')

    subject, mail_html, text = render_issue(issue).personalise(evil)

    assert "<script>" not in mail_html
    assert "Hi &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in mail_html
    assert (
        'href="https://e.com/?n=%3Cscript%3Ealert%28%22x%22%29%3C%2Fscript%3E%20%26%20Co"'
        in mail_html
    )
    assert 'Hi <script>alert("x")</script> & Co' in text
    assert subject == 'Hi <script>alert("x")</script> & Co'


def test_a_readers_value_cannot_turn_a_link_into_javascript():
    issue = build_issue(body_markdown="[home]({{ custom.site }})")

    _, mail_html, _ = render_issue(issue).personalise(
        Recipient(email="x@example.org", custom_fields={"site": "javascript:alert(1)"})
    )

    assert 'href="javascript%3Aalert%281%29"' in mail_html
    assert 'href="javascript:' not in mail_html


def test_a_line_break_in_a_name_cannot_reach_the_subject_header():
    issue = build_issue(subject="Hi {{ name }}")

    subject, _, _ = render_issue(issue).personalise(
        Recipient(email="x@example.org", name="Eve\r\nBcc: victim@example.org")
    )

    assert subject == "Hi Eve Bcc: victim@example.org"


def test_defaults_fill_in_for_missing_values(rendered):
    subject, mail_html, text = rendered.personalise(Recipient(email="anon@example.org"))

    assert subject == "News for "
    assert "Hello there from somewhere." in mail_html
    assert "Hello there from somewhere." in text


def test_readers_never_see_each_others_values(rendered):
    first = rendered.personalise(READER)
    second = rendered.personalise(Recipient(email="bob@example.org", name="Bob"))

    assert "Eve" not in "".join(second) and "Köln" not in "".join(second)
    assert "Bob" not in "".join(first)


def test_no_line_is_longer_than_rfc_5322_allows():
    long_paragraph = (
        " ".join(["word"] * 2000) + " " + "[link](https://example.com/" + "a" * 300 + ")"
    )
    issue = build_issue(body_markdown=long_paragraph)

    _, mail_html, text = render_issue(issue).personalise(READER)

    assert max(len(line.encode()) for line in mail_html.splitlines()) <= 998
    assert max(len(line.encode()) for line in text.splitlines()) <= 998
    assert len(mail_html) > 10_000  # the long paragraph really is in there


def test_it_builds_a_multipart_alternative_utf8_message_with_short_lines(rendered):
    subject, mail_html, text = rendered.personalise(READER)
    message = EmailMultiAlternatives(subject, text, "ada@example.org", ["eve@example.org"])
    message.attach_alternative(mail_html, "text/html")

    raw = message.message().as_bytes()
    assert b"Content-Type: multipart/alternative" in raw
    assert b'Content-Type: text/plain; charset="utf-8"' in raw
    assert b'Content-Type: text/html; charset="utf-8"' in raw
    assert max(len(line) for line in raw.split(b"\n")) <= 998


def test_the_mail_uses_the_newsletter_language():
    issue = build_issue(newsletter=build_newsletter(language="de"))

    _, mail_html, _ = render_issue(issue).personalise(READER)

    assert '<html lang="de"' in mail_html


def test_unknown_placeholders_stop_the_render():
    issue = build_issue(body_markdown="Hi {{ first_name }}")

    with pytest.raises(ValidationError, match="first_name"):
        render_issue(issue)


def test_relative_image_urls_become_absolute_for_mail_clients():
    issue = build_issue(body_markdown="![Chart](/media/uploads/chart.png)")

    _, mail_html, _ = render_issue(issue).personalise(READER)

    assert 'src="http://testserver/media/uploads/chart.png"' in mail_html
