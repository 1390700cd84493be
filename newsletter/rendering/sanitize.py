"""The allow-list every piece of author HTML passes before it reaches a mail or a page.

Nothing executable survives: no script or style element, no event handler, no style
attribute (so no CSS expression), and links only to http(s), mailto and relative URLs.
"""

import re

import bleach

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "div", "dl",
        "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
        "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "s", "section", "small",
        "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
        "tr", "u", "ul",
    }
)  # fmt: skip
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
# Footnotes need their ids and classes; nothing else may carry a class, so author HTML
# cannot borrow the mail theme's classes (e.g. the hidden preheader's).
FOOTNOTE_CLASS_RE = re.compile(r"^(footnote-ref|footnotes|footnotes-sep|footnotes-list|"
                               r"footnote-item|footnote-backref)$")  # fmt: skip
FOOTNOTE_ID_RE = re.compile(r"^fn(ref)?[\w:-]{1,40}$")
SIMPLE_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "ol": {"start"},
}


def attribute_allowed(tag, name, value):
    if name in SIMPLE_ATTRIBUTES.get(tag, ()):
        return True
    if name == "class":
        return bool(FOOTNOTE_CLASS_RE.match(value))
    if name == "id":
        return bool(FOOTNOTE_ID_RE.match(value))
    return False


CLEANER = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=attribute_allowed,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
)
# Elements whose content is code or invisible: drop them whole, not just their tags.
DROP_WHOLE_RE = re.compile(
    r"<(script|style|iframe|object|embed|noscript|template|textarea|title|xmp|noembed"
    r"|noframes|plaintext|svg|math)\b[^>]*>.*?</\1\s*>",
    re.IGNORECASE | re.DOTALL,
)


def clean_html(html):
    """Sanitise author HTML against the allow-list."""
    return CLEANER.clean(DROP_WHOLE_RE.sub("", html or ""))
