"""The rendered newsletter mail survives what mail clients do to HTML.

The rules, from caniemail.com and the clients' own documentation:
- Gmail drops a whole <style> block it cannot parse and, in some apps and for non-Google
  accounts, every <style> block: the layout must hold with inline styles alone.
- Gmail clips messages whose HTML exceeds 102 KB ("[Message clipped]"), hiding the footer
  with the unsubscribe link.
- Outlook for Windows renders with Word: no flexbox, grid, position or float, no
  max-width, no margin:auto centring. A fixed-width table (width="600") centred by
  align="center" is what it lays out; images need a width attribute or they show at
  their natural size and burst the column.
- No client supports CSS variables, calc() in all of them, web fonts by @import, scripts,
  forms, SVG or relative URLs (a mail has no base URL).
- Dark mode: clients that honour it read `color-scheme` and `prefers-color-scheme`.
"""

import re
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from newsletter.models import Issue, Newsletter
from newsletter.rendering import Recipient, render_issue

GMAIL_CLIP_BYTES = 102 * 1024
RICH_BODY = """## What grew this month

Hello {{ name | default: "gardener" }}, here is the [allotment map](https://example.org/map).

![A ripe tomato on the vine](https://example.org/media/tomato.jpg)

| Plant | Sown | Harvest |
|-------|------|---------|
| Tomato | March | August |
| Kale | June | November |

> Leave the last leaves for the hedgehogs.

```
water: 2 l per plant, mornings
```

1. Cut back
2. Mulch
3. Rest

https://www.youtube.com/watch?v=dQw4w9WgXcQ
"""
# Layout parts of the theme: each must be styled inline, since <style> may be gone.
LAYOUT_CLASSES = ("wrapper", "container", "header", "content", "footer")

pytestmark = pytest.mark.django_db


class Elements(HTMLParser):
    """Every start tag as (tag, attributes), plus the text of <style> blocks."""

    def __init__(self, markup):
        super().__init__(convert_charrefs=True)
        self.elements, self.styles, self._in_style = [], [], False
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)

    def tagged(self, *tags):
        return [attrs for tag, attrs in self.elements if tag in tags]

    def with_class(self, name):
        return [attrs for _, attrs in self.elements if name in attrs.get("class", "").split()]


def inline_style(attrs):
    return {
        key.strip().lower(): value.strip().lower()
        for key, _, value in (
            part.partition(":") for part in attrs.get("style", "").split(";") if ":" in part
        )
    }


@pytest.fixture
def mail_html():
    newsletter = Newsletter.objects.create(
        name="Garden Notes",
        slug="garden",
        from_name="Garden Notes",
        from_email="notes@example.org",
        footer="Garden Notes · Beetweg 1 · 12345 Berlin",
    )
    issue = Issue.objects.create(
        newsletter=newsletter,
        subject="What grew this month",
        slug="what-grew",
        preview_text="Tomatoes, kale and a hedgehog",
        body_markdown=RICH_BODY,
        status=Issue.Status.SENT,
        sent_at=timezone.now(),
    )
    reader = Recipient(
        email="ada@example.org",
        name="Ada",
        unsubscribe_url="https://news.example.org/u/abcdefghijklmnopqrstuvwx/",
        preferences_url="https://news.example.org/preferences/abcdefghijklmnopqrstuvwx/",
        web_url="https://news.example.org/garden/what-grew/",
    )
    return render_issue(issue).personalise(reader)[1]


def test_the_mail_stays_well_below_gmails_clipping_size(mail_html):
    # The theme and inlined CSS must leave most of the budget to the author's words:
    # this issue, with one of everything Markdown offers, may use at most a quarter.
    assert len(mail_html.encode()) < GMAIL_CLIP_BYTES / 4


def test_the_layout_is_a_centred_fixed_width_table_that_outlook_can_lay_out(mail_html):
    page = Elements(mail_html)
    containers = page.with_class("container")
    assert len(containers) == 1
    container = containers[0]
    assert container in page.tagged("table")
    assert container.get("width") == "600"  # Outlook's width; max-width is ignored there
    assert container.get("role") == "presentation"  # screen readers skip layout tables
    assert inline_style(container).get("max-width") == "600px"  # the rest: fluid on phones
    assert any(attrs.get("align") == "center" for attrs in page.tagged("td"))


def test_the_layout_holds_when_a_client_strips_the_style_block(mail_html):
    page = Elements(mail_html)
    for name in LAYOUT_CLASSES:
        for attrs in page.with_class(name):
            style = inline_style(attrs)
            assert style, f".{name} has no inline style"
    content = inline_style(page.with_class("content")[0])
    assert content.get("padding") and content.get("font-size") and content.get("color")
    assert inline_style(page.with_class("wrapper")[0]).get("background-color")


def test_no_inline_style_uses_css_that_word_or_gmail_drops(mail_html):
    unsupported = re.compile(
        r"display\s*:\s*(inline-)?(flex|grid)|position\s*:|float\s*:|var\(|calc\(|\d(rem|vw|vh)\b"
    )
    offending = [
        (tag, attrs["style"])
        for tag, attrs in Elements(mail_html).elements
        if unsupported.search(attrs.get("style", ""))
    ]
    assert offending == []


def test_the_style_block_has_no_imports_web_fonts_or_variables(mail_html):
    styles = "\n".join(Elements(mail_html).styles)
    assert styles, "the mail should still carry its <style> for clients that keep it"
    for banned in ("@import", "@font-face", "var(--", "position:", "float:", "display: flex"):
        assert banned not in styles


def test_the_mail_has_no_script_form_frame_or_svg(mail_html):
    page = Elements(mail_html)
    assert page.tagged("script", "form", "iframe", "svg", "object", "embed", "video") == []


def test_every_link_and_image_is_absolute(mail_html):
    page = Elements(mail_html)
    hrefs = [attrs["href"] for attrs in page.tagged("a") if "href" in attrs]
    sources = [attrs.get("src", "") for attrs in page.tagged("img")]
    assert hrefs and sources
    for url in hrefs + sources:
        assert url.startswith(("https://", "http://", "mailto:")), url


def test_every_image_has_alt_text_and_fluid_inline_sizing(mail_html):
    images = Elements(mail_html).tagged("img")
    assert len(images) >= 2  # the photo and the video's poster
    for image in images:
        assert image.get("alt", "").strip(), image
        style = inline_style(image)
        assert style.get("max-width") == "100%" and style.get("height") == "auto", image


def test_every_image_has_a_width_attribute_for_outlook(mail_html):
    for image in Elements(mail_html).tagged("img"):
        assert image.get("width", "").isdigit() and int(image["width"]) <= 600, image


def test_the_mail_declares_dark_mode_support(mail_html):
    page = Elements(mail_html)
    metas = {attrs.get("name"): attrs.get("content") for attrs in page.tagged("meta")}
    assert metas.get("color-scheme") == "light dark"
    assert "@media (prefers-color-scheme: dark)" in "\n".join(page.styles)


def test_the_preheader_is_hidden_inline_and_the_mail_says_its_language(mail_html):
    page = Elements(mail_html)
    preheader = inline_style(page.with_class("preheader")[0])
    assert preheader.get("display") == "none" and preheader.get("max-height") == "0"
    html = page.tagged("html")[0]
    assert html.get("lang") == "en"


def test_no_line_is_longer_than_smtp_allows(mail_html):
    assert max(len(line.encode()) for line in mail_html.splitlines()) <= 998


def test_the_preheaders_colour_differs_from_every_background_behind_it(mail_html):
    # Text in the background's own colour is a spam filter's sign of hidden words
    # (SpamAssassin's HTML_FONT_LOW_CONTRAST); display:none hides the preheader anyway.
    page = Elements(mail_html)
    preheader = inline_style(page.with_class("preheader")[0])
    backgrounds = {
        inline_style(attrs).get("background-color") for attrs in page.tagged("body", "table")
    } | set(re.findall(r"background-color:\s*(#[0-9a-f]{3,6})", "\n".join(page.styles)))
    assert preheader.get("color") and preheader["color"] not in backgrounds
    assert preheader.get("opacity") == "0" and preheader.get("mso-hide") == "all"
