"""A newsletter mail's SMTP bytes, serialised once per issue and filled in per reader.

Serialising a MIME message with Python's email package is most of the SMTP path's work
per mail (docs/performance.md, "Sending"). Yet one issue's mails differ only in a few
headers and in the two bodies. So the issue's mail is serialised once with slots in those
places (the skeleton), and each reader's mail is the skeleton with their values put in,
encoded by the same functions the email package uses: the result is byte for byte what
`message_bytes` gives (tests/newsletter/sending/smtp/test_wire.py compares the two).
The two bodies are kept as templates of encoded text and value slots, so that a
reader's mail encodes only the reader's values, not 20 KB of text.

What the skeleton cannot express goes the slow way (`wire_mail` returns None): a body
that needs quoted-printable (a line over 998 octets), an address that needs SMTPUTF8, a
test send (no Message-ID from the ledger).
"""

import io
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.generator import BytesGenerator
from email.headerregistry import Address
from email.utils import format_datetime
from functools import lru_cache

from django.core.mail.message import RFC5322_EMAIL_LINE_LENGTH_LIMIT as LINE_LIMIT
from django.core.mail.message import forbid_multi_line_headers

from newsletter import rendering
from newsletter.sending import emails
from newsletter.sending.per_process import IssueCache

# The headers that change from reader to reader; all others are the same in every mail.
READER_HEADERS = ("Subject", "To", "Date", "Message-ID", "List-Unsubscribe")
SLOT = re.compile(rb"RBSLOT(H|B|C)([0-9A-Za-z-]+)\.")
HEADER_SLOT = re.compile(rb"^([A-Za-z-]+): (RBSLOTH[0-9A-Za-z-]+\.)\r\n", re.MULTILINE)
LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what the email generator splits payloads on
EXPECTED_SLOTS = sorted(
    [("B", 0), ("B", 1), ("C", 0), ("C", 1)] + [("H", name) for name in READER_HEADERS]
)
WIRE_POLICY = policy.compat32.clone(linesep="\r\n")  # Django's messages use compat32


@dataclass(frozen=True)
class Text:
    """Text of a body that every reader gets, as CRLF bytes, with the lengths of its
    first and last line and the longest whole line inside it (for the line limit)."""

    data: bytes
    first: int
    last: int
    inner: int
    breaks: bool


@dataclass(frozen=True)
class Skeleton:
    key: tuple
    pieces: tuple  # bytes, or (kind, name): ("H", header), ("B", part), ("C", part)
    boundary: bytes
    bodies: tuple = ()  # per MIME part: Text pieces and (index, context) slots, or None


@dataclass(frozen=True)
class WireMail:
    """A mail ready for the SMTP conversation: bytes made, addresses in ASCII."""

    sender: str
    recipient: str
    raw: bytes
    message_id: str


def envelope_address(address):
    """Domain as IDNA (always valid); the local part is left as is (may need SMTPUTF8)."""
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.encode('idna').decode('ascii')}"


def mime_of(message):
    """The message's MIME tree with a multipart boundary already set.

    Left unset, the email generator draws one and then searches every part's text for
    it, per mail. A random 128-bit boundary cannot occur in text written before it was
    drawn, so that search is skipped.
    """
    mime = message.message()
    if mime.is_multipart() and mime.get_boundary() is None:
        mime.set_boundary(f"=_rb_{secrets.token_hex(16)}")
    return mime


def message_bytes(message, recipient, utf8):
    """A Django message's RFC 5322 bytes with CRLF (the slow way, and the reference the
    skeleton matches); for SMTPUTF8 the To header carries the raw address.

    Django refuses a non-ASCII local part, so the message is built with a stand-in
    address and the real one is put into the header afterwards.
    """
    if not utf8:
        return mime_of(message).as_bytes(linesep="\r\n")
    real_to, message.to = message.to, ["stand-in@invalid.invalid"]
    try:
        mime = mime_of(message)
    finally:
        message.to = real_to
    name = getattr(message, "reader_name", "")
    local, _, domain = recipient.rpartition("@")
    mime.replace_header("To", str(Address(display_name=name, username=local, domain=domain)))
    buffer = io.BytesIO()
    BytesGenerator(buffer, policy=policy.SMTPUTF8.clone(linesep="\r\n")).flatten(mime)
    return buffer.getvalue()


def header_slot(name):
    return f"RBSLOTH{name}."


def skeleton_of(message):
    """The skeleton of a message built by emails.build_message: its MIME tree serialised
    with markers for the reader's headers, both bodies and their transfer encodings."""
    mime = mime_of(message)
    for name in READER_HEADERS:
        mime.replace_header(name, header_slot(name))
    parts = mime.get_payload()
    for index, part in enumerate(parts):
        part.set_payload(f"RBSLOTB{index}.")  # no charset: stored as is
        part.replace_header("Content-Transfer-Encoding", f"RBSLOTC{index}.")
    raw = mime.as_bytes(linesep="\r\n")
    raw = HEADER_SLOT.sub(rb"\2", raw)  # the whole header line is the reader's
    pieces, position = [], 0
    for match in SLOT.finditer(raw):
        pieces.append(raw[position : match.start()])
        kind, name = match.group(1).decode(), match.group(2).decode()
        pieces.append((kind, int(name) if kind != "H" else name))
        position = match.end()
    pieces.append(raw[position:])
    slots = sorted(piece for piece in pieces if isinstance(piece, tuple))
    if slots != EXPECTED_SLOTS:  # e.g. an author wrote "RBSLOT…" into the issue
        return None, None
    return pieces, mime.get_boundary().encode()


skeletons = IssueCache()


def skeleton_for(issue, reader):
    """The issue's skeleton, built once per worker process (again after an edit)."""
    newsletter = issue.newsletter
    # Everything the shared headers are made of: an edit to any of it makes a new skeleton.
    key = (
        issue.pk,
        issue.updated_at,
        newsletter.from_name,
        newsletter.from_email,
        newsletter.reply_to,
        emails.list_id_for_transport(newsletter),
        emails.feedback_id(issue),
    )
    skeleton = skeletons.get(issue.pk, key, lambda: new_skeleton(issue, reader, key))
    return skeleton if skeleton.pieces else None


def new_skeleton(issue, reader, key):
    pieces, boundary = skeleton_of(emails.build_message(issue, reader))
    rendered = emails.rendered_issue(issue)
    return Skeleton(
        key=key,
        pieces=tuple(pieces or ()),
        boundary=boundary,
        bodies=(body_template(rendered.text_parts), body_template(rendered.html_parts)),
    )


@lru_cache(maxsize=2)
def date_header(second):
    """The Date header as emails.bulk_headers writes it, made once per second."""
    return format_datetime(datetime.fromtimestamp(second, UTC))


@lru_cache(maxsize=64)  # the subject and the date repeat from mail to mail
def header_bytes(name, value):
    """The header line exactly as Django stores it and the email generator writes it."""
    if fits_one_line(name, value):  # Django stores it unchanged, the generator too
        return f"{name}: {value}\r\n".encode("ascii")
    _, stored = forbid_multi_line_headers(name, value, "utf-8")
    if fits_one_line(name, stored):
        return f"{name}: {stored}\r\n".encode("ascii")
    return WIRE_POLICY.fold_binary(name, stored)


def fits_one_line(name, value):
    """Whether the email package would write this header unchanged on one line (a short
    printable ASCII value with single spaces): then it need not be asked, which is the
    costly part of a header."""
    return (
        len(name) + 2 + len(value) <= WIRE_POLICY.max_line_length
        and value.isascii()
        and value.isprintable()
        and value == value.strip()
        and "  " not in value
    )


class NeedsSlowPath(Exception):
    """This mail cannot be made from the skeleton."""


def body_bytes(text):
    """(payload bytes, transfer encoding) as Django's SafeMIMEText and the generator make
    them, for the 7bit and 8bit cases; a long line would need quoted-printable."""
    if "\r" in text:
        payload = LINE_BREAK.sub("\r\n", text).encode()
    else:
        payload = text.replace("\n", "\r\n").encode()
    # Lines split at CR LF are never shorter than Django's (str.splitlines splits at
    # more characters), so the exact check is needed only when this one finds a long line.
    if max(map(len, payload.split(b"\r\n"))) > LINE_LIMIT and any(
        len(line.encode(errors="surrogateescape")) > LINE_LIMIT for line in text.splitlines()
    ):
        raise NeedsSlowPath("a line needs quoted-printable")
    return payload, (b"7bit" if payload.isascii() else b"8bit")


def body_template(parts):
    """A rendered body's parts (rendering.RenderedIssue) with its text already encoded,
    so that filling in a reader encodes only their values; None for text with a bare CR,
    whose line breaks the email generator would count differently."""
    template = []
    for part in parts:
        if not isinstance(part, str):
            template.append(part)
            continue
        if "\r" in part:
            return None
        data = part.replace("\n", "\r\n").encode()
        lines = data.split(b"\r\n")
        inner = max(map(len, lines[1:-1]), default=0)
        template.append(Text(data, len(lines[0]), len(lines[-1]), inner, len(lines) > 1))
    return tuple(template)


def fill_body(template, placeholders, values):
    """body_bytes of the reader's personalised body, made from the template: the long-line
    check follows line lengths across the joins instead of scanning 20 KB per mail."""
    out, line, longest, ascii_only = [], 0, 0, True
    for part in template:
        if isinstance(part, Text):
            out.append(part.data)
            if part.breaks:
                longest = max(longest, line + part.first, part.inner)
                line = part.last
            else:
                line += part.first
            continue
        index, context = part
        value = rendering.escape_for(context, placeholders[index], values[index])
        if "\r" in value or "\n" in value:
            raise NeedsSlowPath("a reader's value breaks a line")
        data = value.encode()
        out.append(data)
        line += len(data)
        ascii_only = ascii_only and value.isascii()
    payload = b"".join(out)
    if max(longest, line) > LINE_LIMIT:
        raise NeedsSlowPath("a line may need quoted-printable")
    if ascii_only:  # the values are; the text written once may not be
        ascii_only = payload.isascii()
    return payload, (b"7bit" if ascii_only else b"8bit")


def reader_bodies(issue, skeleton, reader):
    """(subject, [(payload, encoding) of the text part, of the HTML part]) for a reader."""
    rendered = emails.rendered_issue(issue)
    values = rendered.values_for(emails.recipient_for(issue, reader))
    subject = rendering.fill(rendered.subject_parts, rendered.placeholders, values, subject=True)
    if None in skeleton.bodies:
        _, html, text = rendered.personalise(emails.recipient_for(issue, reader))
        return subject, [body_bytes(text), body_bytes(html)]
    return subject, [fill_body(body, rendered.placeholders, values) for body in skeleton.bodies]


def wire_mail(issue, reader):
    """The reader's mail ready for SMTP, or None when it must be built the slow way."""
    sender = envelope_address(issue.newsletter.from_email)
    recipient = envelope_address(reader.email)
    if reader.subscriber_id is None or not (sender.isascii() and recipient.isascii()):
        return None
    skeleton = skeleton_for(issue, reader)
    if skeleton is None:
        return None
    try:
        subject, bodies = reader_bodies(issue, skeleton, reader)
    except NeedsSlowPath:
        return None
    message_id = emails.message_id_for(issue.pk, reader.subscriber_id)
    values = {
        "Subject": subject,
        "To": emails.to_header(reader),
        "Date": date_header(int(time.time())),
        "Message-ID": message_id,
        "List-Unsubscribe": emails.list_unsubscribe_header(reader.unsubscribe_url),
    }
    if any(skeleton.boundary in body for body, _ in bodies):
        return None
    out = []
    for piece in skeleton.pieces:
        if isinstance(piece, bytes):
            out.append(piece)
        elif piece[0] == "H":
            out.append(header_bytes(piece[1], values[piece[1]]))
        elif piece[0] == "B":
            out.append(bodies[piece[1]][0])
        else:
            out.append(bodies[piece[1]][1])
    return WireMail(
        sender=sender,
        recipient=recipient,
        raw=b"".join(out),
        message_id=message_id,
    )
