"""The one DKIM signer for every mail that leaves over SMTP (dkimpy).

The engine's connection pool, its fast path and the Django mail backend for system mails
and test sends all sign here, with the same header list:
- h= covers the headers a receiver shows or acts on, Feedback-ID included (a mailbox
  provider groups complaints by it);
- From, List-Unsubscribe and List-Unsubscribe-Post are over-signed: each is named once
  more than the mail carries it, so a copy prepended later breaks the signature (RFC 6376
  section 8.15), which RFC 8058 asks for the one-click headers.
"""

from functools import cache
from pathlib import Path

import dkim as dkimpy
from django.conf import settings

SIGNED_HEADERS = (
    b"from",
    b"to",
    b"cc",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"mime-version",
    b"content-type",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"feedback-id",
)
OVERSIGNED_HEADERS = (b"from", b"list-unsubscribe", b"list-unsubscribe-post")


@cache
def private_key():
    key = settings.DKIM_PRIVATE_KEY.strip()
    if key.startswith("-----BEGIN"):
        return key.replace("\\n", "\n").encode()
    return Path(key).read_bytes()


def enabled():
    return bool(settings.DKIM_PRIVATE_KEY and settings.DKIM_SELECTOR)


def header_names(raw):
    """The lowercased names of the message's header fields, one per occurrence."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    return [
        line.split(b":", 1)[0].strip().lower()
        for line in head.split(b"\r\n")
        if line and line[:1] not in (b" ", b"\t")
    ]


def headers_to_sign(raw):
    """SIGNED_HEADERS, each as often as the mail has it; the over-signed ones once more
    (a name without a field signs its absence)."""
    present = header_names(raw)
    names = []
    for name in SIGNED_HEADERS:
        count = present.count(name)
        names.extend([name] * (count + 1 if name in OVERSIGNED_HEADERS else count))
    return names


def sign(raw, sender):
    """The message with its DKIM-Signature prepended; d= is DKIM_DOMAIN or the sender's."""
    if not enabled():
        return raw
    domain = settings.DKIM_DOMAIN or sender.rpartition("@")[2]
    signature = dkimpy.sign(
        raw,
        settings.DKIM_SELECTOR.encode(),
        domain.encode(),
        private_key(),
        include_headers=headers_to_sign(raw),
    )
    return signature + raw
