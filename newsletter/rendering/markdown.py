"""Markdown to (unsanitised) HTML: CommonMark, tables, footnotes, autolinks, images, and
embedded videos turned into linked thumbnails, because mail clients cannot play video.

The output still has to go through newsletter.rendering.sanitize before anyone sees it.
"""

import re
from functools import lru_cache

from django.templatetags.static import static
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin

from config.site import absolute_url

# A paragraph holding nothing but a video URL (optionally in <...>) becomes a thumbnail.
YOUTUBE_RE = re.compile(
    r"^<?https?://(?:www\.|m\.)?(?:youtube\.com/(?:watch\?(?:\S*&)?v=|shorts/|embed/)"
    r"|youtu\.be/)(?P<id>[\w-]{6,20})\S*?>?$"
)
VIMEO_RE = re.compile(r"^<?https?://(?:www\.|player\.)?vimeo\.com/(?:video/)?(?P<id>\d+)\S*?>?$")
ALIGN_RE = re.compile(r"^text-align:(left|right|center)$")


def video_thumbnail(url):
    """(link, thumbnail image URL) for a YouTube or Vimeo URL, else None."""
    url = url.strip()
    if match := YOUTUBE_RE.match(url):
        return url.strip("<>"), f"https://img.youtube.com/vi/{match['id']}/hqdefault.jpg"
    if VIMEO_RE.match(url):
        # Vimeo has no thumbnail URL without an API call: use our own play picture.
        return url.strip("<>"), absolute_url(static("img/video-play.png"))
    return None


def replace_video_links(state):
    """Core rule: swap a lone video URL paragraph for a linked thumbnail image."""
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type != "inline" or index == 0 or tokens[index - 1].type != "paragraph_open":
            continue
        found = video_thumbnail(token.content)
        if not found:
            continue
        link, image = found
        alt = _("Play the video").replace("]", "")
        snippet = f"[![{alt}](<{image}>)](<{link}>)"
        token.children = state.md.parseInline(snippet, state.env)[0].children


def align_table_cells(state):
    """Core rule: `style="text-align:…"` on table cells becomes an `align` attribute,
    so the sanitiser can forbid style attributes altogether."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open") and token.attrs.get("style"):
            match = ALIGN_RE.match(token.attrs.pop("style"))
            if match:
                token.attrs["align"] = match.group(1)


@lru_cache(maxsize=1)
def parser():
    md = (
        MarkdownIt("commonmark", {"linkify": True, "html": True, "typographer": False})
        .enable(["table", "strikethrough", "linkify"])
        .use(footnote_plugin)
    )
    md.core.ruler.after("inline", "video_thumbnails", replace_video_links)
    md.core.ruler.push("align_table_cells", align_table_cells)
    return md


def markdown_to_html(text):
    """Render Markdown to HTML. NOT safe to show: sanitise the result."""
    return parser().render(text or "")
