"""Reading mail the loopback SMTP server received, the way a mail client would."""

import functools
import re

import polib
from django.utils import translation
from django.utils.translation import gettext

from tests.e2e.conftest import BASE_DIR


def html_part(received):
    return received.message.get_body(preferencelist=("html",)).get_content()


def text_part(received):
    return received.message.get_body(preferencelist=("plain",)).get_content()


def subject_of(received):
    """The subject as a mail client shows it.

    Python folds a long encoded subject onto a continuation line (`Subject:` CRLF SP
    `=?utf-8?q?…?=`); unfolding leaves a leading space that clients trim, and so do we.
    """
    return received.message["Subject"].strip()


def raw_header(received, name):
    """A header exactly as it was sent (unfolded), not as Python's parser decodes it."""
    head = received.raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ")
    for line in head.split(b"\r\n"):
        key, _, value = line.partition(b":")
        if key.strip().lower() == name.lower().encode():
            return value.strip().decode()
    return None


def https_or_http_uri(list_unsubscribe):
    """The web URI of a List-Unsubscribe header (`<https://…>, <mailto:…>`)."""
    uris = re.findall(r"<([^>]+)>", list_unsubscribe)
    web = [uri for uri in uris if uri.startswith(("https://", "http://"))]
    assert len(web) == 1, f"exactly one web URI expected in {list_unsubscribe!r}"
    return web[0]


@functools.cache
def compiled_catalogue(language):
    """msgid -> translation, as the running app reads it (the compiled .mo file)."""
    path = BASE_DIR / "locale" / language / "LC_MESSAGES" / "django.mo"
    if not path.exists():
        return {}
    return {entry.msgid: entry.msgstr for entry in polib.mofile(str(path)) if entry.msgstr}


def translated(language, msgid, **values):
    """The catalogue's text for `msgid` in `language`, with %(name)s values filled in.

    In any language but English the catalogue must hold a translation: otherwise a page
    that "shows the German string" might merely be showing the English fallback. (The
    text may still equal the msgid: "Name" is "Name" in German.)
    """
    if language != "en":
        assert msgid in compiled_catalogue(language), f"no {language} translation: {msgid!r}"
    with translation.override(language):
        text = gettext(msgid)
    return text % values if values else text
