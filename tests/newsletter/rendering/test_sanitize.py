"""Every payload of a real XSS corpus loses everything executable on its way to a mail."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from newsletter.rendering import Recipient, render_issue, render_markdown
from newsletter.rendering.sanitize import ALLOWED_TAGS, clean_html
from tests.factories import build_issue

XSS_FILE = Path(__file__).resolve().parents[2] / "payloads" / "xss.txt"
PAYLOADS = [line for line in XSS_FILE.read_text().splitlines() if line.strip()]
SAFE_SCHEMES = ("http", "https", "mailto")
# Whitespace and control characters browsers ignore inside a URL scheme.
IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20]")


class Elements(HTMLParser):
    """Collects (tag, attributes) of every element, with entities decoded."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    handle_startendtag = handle_starttag


def elements_of(markup):
    parser = Elements()
    parser.feed(markup)
    parser.close()
    return parser.elements


def scheme_of(url):
    url = IGNORED_IN_SCHEME.sub("", url)  # the parser has decoded entities already
    match = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):", url)
    return match.group(1).lower() if match else None


def assert_nothing_executable(markup, allowed_tags=ALLOWED_TAGS):
    for tag, attrs in elements_of(markup):
        assert tag in allowed_tags, f"<{tag}> survived"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name} on <{tag}>"
            if name in ("href", "src", "action", "formaction", "background", "srcset"):
                assert scheme_of(value) in (None, *SAFE_SCHEMES), f"{name}={value!r}"
            if name == "style":  # only the theme's inlined CSS may carry style
                assert "expression" not in value.lower() and "url(" not in value.lower()
    assert "<script" not in markup.lower()


def test_the_corpus_is_a_real_one():
    assert len(PAYLOADS) >= 100
    assert any("onerror" in payload for payload in PAYLOADS)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_output_of_each_payload_is_harmless(payload):
    result = render_markdown(payload)

    assert_nothing_executable(result)
    assert all("style" not in attrs for _, attrs in elements_of(result))
    assert all("class" not in attrs or attrs["class"].startswith("footnote")
               for _, attrs in elements_of(result))  # fmt: skip


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_whole_mail_of_each_payload_is_harmless(payload):
    issue = build_issue(body_markdown=payload, preview_text="")
    subject, mail_html, text = render_issue(issue).personalise(
        Recipient(email="reader@example.org", unsubscribe_url="https://testserver/u/tok/")
    )

    # The mail theme adds its own structural tags; the author's part adds nothing else.
    theme_tags = ALLOWED_TAGS | {"html", "head", "meta", "title", "style", "body"}
    assert_nothing_executable(mail_html, allowed_tags=theme_tags)
    assert mail_html.lower().count("<style") == 1  # only the theme's own block
    assert "https://testserver/u/tok/" in text


def test_the_scripts_contents_are_dropped_not_shown_as_text():
    assert "alert" not in clean_html("<p>a</p><script>alert(1)</script><p>b</p>")


def test_harmless_author_html_is_kept():
    kept = render_markdown('<figure><img src="https://example.com/a.png" alt="A"></figure>')

    assert '<img src="https://example.com/a.png" alt="A">' in kept
    assert "<figure>" in kept
