"""Width attributes for images in mail.

Outlook for Windows lays mail out with Word, which ignores CSS max-width: an image without
a width attribute shows at its natural size and bursts the 600 px column. So every image in
a mail gets an explicit width, read from the file where we have it (uploads, our own static
pictures) and the column width otherwise; CSS keeps height:auto and fluid on phones.
"""

import html
import re
from functools import lru_cache
from urllib.parse import unquote

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from PIL import Image, UnidentifiedImageError

# The mail column is 600 px with 32 px padding on each side (emails/newsletter/issue-body.html).
CONTENT_WIDTH = 536
YOUTUBE_THUMBNAIL_WIDTH = 480  # hqdefault.jpg is 480×360
IMG_TAG_RE = re.compile(r"<img\b[^>]*>")
ATTRIBUTE_RE = re.compile(r'\s(width|height)="[^"]*"')
SRC_RE = re.compile(r'\ssrc="([^"]*)"')
WIDTH_RE = re.compile(r'\swidth="(\d+)"')


class OutsideOwnFolder(ValueError):
    """A URL under the site's media or static address that climbs out of that folder."""


def own_file(url):
    """("media" or "static", the path in that folder) for a URL of ours, else None.

    Raises OutsideOwnFolder when the path, decoded the way a browser or web server would,
    leaves the folder ("..", also as %2e%2e, or a backslash that browsers read as "/").
    """
    # This site's address plus each folder's path, not config.site.absolute_url: that keeps
    # a MEDIA_URL naming another host (a CDN), whose files are not ours to open.
    prefixes = (
        ("media", settings.SITE_URL + settings.MEDIA_URL),
        ("static", settings.SITE_URL + settings.STATIC_URL),
    )
    for folder, prefix in prefixes:
        if url.startswith(prefix):
            path = unquote(re.split(r"[?#]", url.removeprefix(prefix), maxsplit=1)[0])
            segments = path.replace("\\", "/").split("/")
            if ".." in segments or path.startswith(("/", "\\")) or "\0" in path:
                raise OutsideOwnFolder(url)
            return folder, path
    return None


def climbing_image_urls(body_html):
    """The image URLs of sanitised HTML that climb out of our media or static folder."""
    climbing = []
    for tag in IMG_TAG_RE.findall(body_html):
        src = SRC_RE.search(tag)
        try:
            own_file(html.unescape(src.group(1)) if src else "")
        except OutsideOwnFolder as exc:
            climbing.append(str(exc))
    return climbing


def natural_size(url):
    """(width, height) of an image we serve ourselves, or None for anything else."""
    try:
        found = own_file(url)
        if found is None:
            return None
        folder, path = found
        if folder == "media":
            with default_storage.open(path) as handle:
                return Image.open(handle).size
        path = finders.find(path)
        return _static_size(path) if path else None
    except (OSError, UnidentifiedImageError, ValueError, SuspiciousFileOperation):
        # OutsideOwnFolder is a ValueError: such a URL gets the column width, and its
        # storage's message (which names the server's folders) is never shown.
        return None


@lru_cache(maxsize=64)
def _static_size(path):
    with Image.open(path) as image:
        return image.size


def mail_width(url, given=None):
    if given:
        return min(given, CONTENT_WIDTH)
    if "img.youtube.com/vi/" in url:
        return YOUTUBE_THUMBNAIL_WIDTH
    size = natural_size(url)
    return min(size[0], CONTENT_WIDTH) if size else CONTENT_WIDTH


def size_images(body_html):
    """Give every <img> a width attribute (and drop a height that would distort it)."""

    def sized(match):
        tag = match.group(0)
        src = SRC_RE.search(tag)
        given = WIDTH_RE.search(tag)
        width = mail_width(src.group(1) if src else "", int(given.group(1)) if given else None)
        tag = ATTRIBUTE_RE.sub("", tag)
        return f'{tag[:-1].rstrip("/").rstrip()} width="{width}">'

    return IMG_TAG_RE.sub(sized, body_html)


def logo_width(logo, height):
    """Width of the logo shown at `height` px, keeping its aspect ratio."""
    try:
        logo.open("rb")
        with Image.open(logo) as image:
            natural_width, natural_height = image.size
    except (OSError, UnidentifiedImageError, ValueError):
        return height * 4
    finally:
        logo.close()
    return min(round(natural_width * height / natural_height), CONTENT_WIDTH)
