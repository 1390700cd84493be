"""Rendering an issue: Markdown → sanitised HTML → the themed mail with CSS inlined, plus
its plain-text part, once per issue. Per reader only the placeholders are filled in, by
joining pre-split string pieces, so 100,000 mails never render a template 100,000 times.

How: every placeholder is swapped for an opaque marker (`rbph<nonce>n<i>x`, letters and
digits only, so Markdown, bleach, the template engine and the CSS inliner leave it alone)
before anything is rendered. The finished HTML and text are then split at the markers;
each marker remembers whether it sits in text, in an attribute or in a URL attribute,
which decides how a reader's value is escaped there.

Two consumers reshape a RenderedIssue instead of calling `personalise`, so a change to
its parts, their slots or `escape_for`/`join_parts`/`fill` must be checked against both:
newsletter.sending.smtp.wire encodes the parts once into an issue's SMTP skeleton and
fills each reader's escaped values into it; newsletter.sending.providers.merge turns the
slots into a provider's merge fields or stored template, which the provider fills in.
Both must give byte for byte what `personalise` gives.
"""

import html
import re
import secrets
from dataclasses import dataclass, field, replace
from functools import lru_cache
from urllib.parse import quote

import css_inline
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from config.site import absolute_url
from newsletter.rendering.images import climbing_image_urls, logo_width, size_images
from newsletter.rendering.markdown import markdown_to_html
from newsletter.rendering.placeholders import (
    PLACEHOLDER_RE,
    SYSTEM_KEYS,
    Placeholder,
    canonical,
    neutral_value,
    placeholder_from_match,
    reader_value,
    validate_placeholders,
)
from newsletter.rendering.plaintext import html_to_text
from newsletter.rendering.sanitize import clean_html

__all__ = [
    # For authors' text, readers and the archive:
    "Recipient", "RenderedIssue", "render_issue", "render_markdown", "fill_html", "render_web",
    "render_subject_for_web", "neutral_text", "validate_placeholders", "validate_image_urls",
    # For the two consumers that reshape a RenderedIssue:
    "escape_for", "join_parts", "fill",
]  # fmt: skip

HTML_TEMPLATE = "emails/newsletter/issue-body.html"
TEXT_TEMPLATE = "emails/newsletter/issue-body.txt"
# RFC 5322 allows 998 octets per line; stay well below so no transfer encoding is forced.
MAX_LINE = 900
LOGO_HEIGHT = 48
# A placeholder as it is stored in body_html: HTML-escaped, in its canonical form.
STORED_PLACEHOLDER_RE = re.compile(
    r"\{\{ (?P<key>[A-Za-z_][\w.-]*)(?: \| default: &quot;(?P<default>.*?)&quot;)? \}\}"
)
RELATIVE_URL_RE = re.compile(r'(?<=\s)(?P<attr>href|src)="/(?!/)')
URL_ATTRIBUTES = ("href", "src")


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str = ""
    custom_fields: dict = field(default_factory=dict)
    unsubscribe_url: str = ""
    preferences_url: str = ""
    web_url: str = ""


# --- markers ---------------------------------------------------------------------------
class Markers:
    """Hands out one marker per placeholder occurrence and finds them again later."""

    def __init__(self):
        self.nonce = secrets.token_hex(4)
        self.placeholders: list[Placeholder] = []
        self.pattern = re.compile(rf"rbph{self.nonce}n(\d+)x")

    def add(self, placeholder):
        self.placeholders.append(placeholder)
        return f"rbph{self.nonce}n{len(self.placeholders) - 1}x"

    def protect(self, text):
        """Text with every placeholder replaced by a marker."""
        return PLACEHOLDER_RE.sub(lambda m: self.add(placeholder_from_match(m)), text or "")

    def protect_stored(self, stored_html):
        """Stored body_html (canonical, escaped placeholders) with markers instead."""

        def swap(match):
            default = match["default"]
            return self.add(Placeholder(match["key"], html.unescape(default) if default else None))

        return STORED_PLACEHOLDER_RE.sub(swap, stored_html or "")

    def split(self, text, markup):
        """Cut rendered output into literal strings and (placeholder index, context) slots."""
        parts, position = [], 0
        for match in self.pattern.finditer(text):
            parts.append(text[position : match.start()])
            context = context_at(text, match.start()) if markup else "text"
            parts.append((int(match.group(1)), context))
            position = match.end()
        parts.append(text[position:])
        return tuple(parts)


def context_at(markup, position):
    """'html' for text content, 'url' inside href/src, 'attr' inside another attribute."""
    if markup.rfind("<", 0, position) <= markup.rfind(">", 0, position):
        return "html"
    tag_start = markup.rfind("<", 0, position)
    attribute = re.search(r'([\w-]+)\s*=\s*"[^"]*$', markup[tag_start:position])
    return "url" if attribute and attribute.group(1).lower() in URL_ATTRIBUTES else "attr"


def escape_for(context, placeholder, value):
    if context == "html" or context == "attr":
        return html.escape(value)
    if context == "url":
        # A reader's value never decides where a link goes: percent-encode it whole.
        return html.escape(value if placeholder.is_system else quote(value, safe=""))
    if context == "subject":
        return " ".join(value.split())  # no line breaks in a header
    return value


def join_parts(parts, slot_text, subject=False):
    """Join split output, asking `slot_text(index, context)` for each placeholder slot."""
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        else:
            index, context = part
            out.append(slot_text(index, "subject" if subject else context))
    return "".join(out)


def fill(parts, placeholders, values, subject=False):
    return join_parts(
        parts,
        lambda index, context: escape_for(context, placeholders[index], values[index]),
        subject,
    )


# --- the rendered issue ------------------------------------------------------------------
@dataclass(frozen=True)
class RenderedIssue:
    """An issue rendered once; `personalise` fills one reader's values in cheaply."""

    placeholders: tuple
    subject_parts: tuple
    html_parts: tuple
    text_parts: tuple
    web_url: str = ""

    def values_for(self, recipient):
        if not recipient.web_url and self.web_url:
            recipient = replace(recipient, web_url=self.web_url)
        return [reader_value(placeholder, recipient) for placeholder in self.placeholders]

    def personalise(self, recipient: Recipient) -> tuple[str, str, str]:
        """(subject, html, text) for one reader."""
        values = self.values_for(recipient)
        return (
            fill(self.subject_parts, self.placeholders, values, subject=True),
            fill(self.html_parts, self.placeholders, values),
            fill(self.text_parts, self.placeholders, values),
        )


# --- public API ------------------------------------------------------------------------
def render_markdown(markdown_text) -> str:
    """Markdown → sanitised HTML with absolute URLs; placeholders kept in canonical form
    (HTML-escaped), ready for `fill_html` or `render_web`."""
    markers = Markers()
    body = sanitised_body(markers.protect(markdown_text))
    return "".join(
        part if isinstance(part, str) else html.escape(canonical(markers.placeholders[part[0]]))
        for part in markers.split(body, markup=True)
    )


def fill_html(stored_html, recipient: Recipient) -> str:
    """Fill the placeholders of render_markdown output for one reader (e.g. welcome mails)."""
    markers = Markers()
    parts = markers.split(markers.protect_stored(stored_html), markup=True)
    values = [reader_value(p, recipient) for p in markers.placeholders]
    return fill(parts, markers.placeholders, values)


def render_web(issue) -> str:
    """The archive page body: placeholders filled with neutral fallbacks, never a
    reader's data (a name falls back to its default, or to nothing)."""
    stored = issue.body_html or render_markdown(issue.body_markdown)
    newsletter_url = absolute_url(issue.newsletter.get_absolute_url())
    urls = {
        "web_url": absolute_url(issue.get_absolute_url()),
        "unsubscribe_url": newsletter_url,
        "preferences_url": newsletter_url,
    }
    markers = Markers()
    parts = markers.split(markers.protect_stored(stored), markup=True)
    values = [neutral_value(p, urls) for p in markers.placeholders]
    return fill(parts, markers.placeholders, values)


def neutral_text(text) -> str:
    """Plain text (a subject, a preview text) with placeholders filled neutrally."""
    markers = Markers()
    parts = markers.split(markers.protect(text), markup=False)
    values = [neutral_value(p, {}) for p in markers.placeholders]
    return fill(parts, markers.placeholders, values, subject=True).strip()


def render_subject_for_web(issue) -> str:
    """The subject with placeholders filled neutrally (for archive titles and feeds)."""
    return neutral_text(issue.subject)


def render_issue(issue) -> RenderedIssue:
    """Render an issue's mail once: subject, themed HTML with inlined CSS, and text."""
    for text in (issue.subject, issue.preview_text, issue.body_markdown):
        validate_placeholders(text)
    markers = Markers()
    subject = markers.protect(issue.subject)
    preview = markers.protect(issue.preview_text)
    body_html = size_images(sanitised_body(markers.protect(issue.body_markdown)))
    body_text, links = html_to_text(body_html)
    links_marker = {key: markers.add(Placeholder(key)) for key in SYSTEM_KEYS}
    context = mail_context(issue, subject, preview, body_html, body_text, links, links_marker)
    with translation.override(issue.newsletter.language):
        mail_html = render_to_string(HTML_TEMPLATE, context)
        mail_text = render_to_string(TEXT_TEMPLATE, context)
    mail_html = fold_long_lines(inliner().inline(mail_html))
    return RenderedIssue(
        placeholders=tuple(markers.placeholders),
        subject_parts=markers.split(subject, markup=False),
        html_parts=markers.split(mail_html, markup=True),
        text_parts=markers.split(mail_text, markup=False),
        web_url=public_issue_url(issue),
    )


def validate_image_urls(markdown_text):
    """Refuse images whose URL climbs out of the site's media or static folder."""
    climbing = climbing_image_urls(sanitised_body(Markers().protect(markdown_text)))
    if climbing:
        raise ValidationError(
            _(
                "The image address “%(url)s” leaves the site’s media or static folder "
                "(“..”). Use the address the image upload gave you."
            ),
            code="image_outside_folder",
            params={"url": climbing[0]},
        )


# --- helpers ---------------------------------------------------------------------------
def sanitised_body(markdown_text):
    body = clean_html(markdown_to_html(markdown_text))
    return RELATIVE_URL_RE.sub(lambda m: f'{m["attr"]}="{absolute_url("/")}', body)


def public_issue_url(issue):
    if issue.newsletter.archive_public and issue.show_in_archive and issue.slug:
        return absolute_url(issue.get_absolute_url())
    return ""


def mail_context(issue, subject, preview, body_html, body_text, links, links_marker):
    newsletter = issue.newsletter
    return {
        "newsletter": newsletter,
        "issue": issue,
        "lang": newsletter.language,
        "subject": subject,
        "preheader": preview,
        "body_html": mark_safe(body_html),  # noqa: S308 - sanitised by clean_html above  # nosec B308, B703
        "body_text": body_text,
        "links": links,
        "accent": newsletter.accent_colour,
        "logo_url": absolute_url(newsletter.logo.url) if newsletter.logo else "",
        "logo_width": logo_width(newsletter.logo, LOGO_HEIGHT) if newsletter.logo else 0,
        "logo_height": LOGO_HEIGHT,
        "show_web_link": bool(public_issue_url(issue)),
        "web_url": links_marker["web_url"],
        "unsubscribe_url": links_marker["unsubscribe_url"],
        "preferences_url": links_marker["preferences_url"],
        "footer_lines": [line for line in newsletter.footer.splitlines() if line.strip()],
    }


@lru_cache(maxsize=1)
def inliner():
    # At-rules (dark mode, small screens) cannot be inlined: they stay in a <style> block.
    return css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


def fold_long_lines(markup, limit=MAX_LINE):
    """Break lines longer than `limit` at a space (whitespace is insignificant there)."""
    lines = []
    for line in markup.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            if cut <= 0:
                cut = line.find(" ", limit)
                if cut == -1:
                    break
            lines.append(line[:cut])
            line = line[cut + 1 :]
        lines.append(line)
    return "\n".join(lines)
