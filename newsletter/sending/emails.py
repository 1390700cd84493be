"""Build the newsletter mail for one reader: personalised parts plus the bulk-mail headers
(List-Unsubscribe with its one-click Post, List-Id, a deterministic Message-ID on
MAIL_DOMAIN, Reply-To, Feedback-ID, anymail tags and metadata).
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address
from email.utils import format_datetime, formataddr, make_msgid
from functools import lru_cache

from anymail.message import AnymailMessage
from django.conf import settings
from django.utils.translation import gettext as _

from config.site import absolute_reverse
from newsletter import rendering
from newsletter.sending import delivery_reference
from newsletter.sending.per_process import IssueCache
from subscribers.models import Subscriber

rendered_issues = IssueCache()


def rendered_issue(issue):
    """The issue rendered once per worker process (re-rendered only when it was edited)."""
    key = (issue.pk, issue.updated_at)
    return rendered_issues.get(issue.pk, key, lambda: rendering.render_issue(issue))


def message_id_for(issue_id, subscriber_id):
    """Deterministic per (issue, reader), so a repeat after a crash is recognisable.

    Keyed hash rather than raw ids: the header must not reveal how many readers there are.
    """
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"{issue_id}:{subscriber_id}".encode(), hashlib.sha256
    ).hexdigest()[:24]
    return f"<{issue_id}.{digest}@{settings.MAIL_DOMAIN}>"


TOKEN_SLOT = "rbtokenslot"  # noqa: S105 - a placeholder in a URL, not a secret  # nosec B105


@lru_cache(maxsize=8)
def token_url_pattern(name, site_url):
    """The reversed URL with a slot for the token: reverse() once, not once per reader
    (`site_url` keys the cache: the pattern includes it)."""
    return absolute_reverse(name, token=TOKEN_SLOT)


def token_url(name, token):
    return token_url_pattern(name, settings.SITE_URL).replace(TOKEN_SLOT, token)


def list_id_header(newsletter):
    """RFC 2919: "Phrase <list-label.domain>", at most 255 octets. A non-ASCII phrase is
    RFC 2047-encoded on its own: the <label> that filters match on stays plain ASCII."""
    label = f"<{newsletter.slug}.{settings.MAIL_DOMAIN}>"
    phrase = " ".join(newsletter.name.replace('"', "").split())[:120]
    if phrase.isascii():
        return f'"{phrase}" {label}'[:255]
    # Encoded words of at most 75 characters, joined by spaces on one logical line.
    words = Header(phrase, "utf-8").encode(maxlinelen=76).replace("\n ", " ")
    return f"{words} {label}" if len(words) + len(label) < 255 else label


def list_id_for_transport(newsletter):
    """The List-Id every transport gets (always ASCII: Brevo sends non-ASCII header
    values as raw 8-bit, which anymail refuses)."""
    return list_id_header(newsletter)


def list_unsubscribe_header(unsubscribe_url):
    """Only the one-click https URI: a mailto would need a mailbox that is read and tells
    readers apart, which Rundbrief does not run."""
    return f"<{unsubscribe_url}>"


def feedback_id(issue):
    # Gmail feedback loop: campaign:customer:type:SenderId; SenderId stays stable.
    if not settings.FEEDBACK_ID_SENDER:
        return None
    return f"{issue.pk}:{issue.newsletter_id}:newsletter:{settings.FEEDBACK_ID_SENDER}"


@dataclass(frozen=True)
class Reader:
    """What the sending engine knows about one recipient of one issue."""

    delivery_id: int | None
    subscriber_id: int | None
    email: str
    name: str
    custom_fields: dict
    unsubscribe_url: str
    preferences_url: str


def reader_from_row(
    *, delivery_id, subscriber_id, email, name, custom_fields, subscriber_token, subscription_token
):
    """A Reader from plain column values (the engine loads rows without model instances)."""
    return Reader(
        delivery_id=delivery_id,
        subscriber_id=subscriber_id,
        email=email,
        name=name,
        custom_fields=custom_fields or {},
        unsubscribe_url=token_url("subscribers:unsubscribe", subscription_token),
        preferences_url=token_url("subscribers:preferences", subscriber_token),
    )


def web_url_for(issue):
    return issue_url(issue.newsletter.slug, issue.slug, settings.SITE_URL)


@lru_cache(maxsize=8)
def issue_url(newsletter_slug, issue_slug, site_url):
    """The issue's archive URL: reverse() once per issue, not once per reader."""
    return absolute_reverse("newsletter:issue", slug=newsletter_slug, issue_slug=issue_slug)


def recipient_for(issue, reader):
    """The rendering's view of a reader: the values its placeholders are filled with."""
    return rendering.Recipient(
        email=reader.email,
        name=reader.name,
        custom_fields=reader.custom_fields,
        unsubscribe_url=reader.unsubscribe_url,
        preferences_url=reader.preferences_url,
        web_url=web_url_for(issue),
    )


def personalised_parts(issue, reader):
    return rendered_issue(issue).personalise(recipient_for(issue, reader))


def bulk_headers(issue, reader, *, date=None):
    """Headers every newsletter mail carries; Message-ID only for ledger deliveries.
    `date`: a formatted Date shared by mails sent together (one call of a batch API)."""
    headers = {
        "List-Id": list_id_for_transport(issue.newsletter),
        "Precedence": "bulk",
        # Django's default Date ends in -0000 ("zone unknown"); give the real one.
        "Date": date or mail_date(),
    }
    if reader.subscriber_id is not None:
        headers["List-Unsubscribe"] = list_unsubscribe_header(reader.unsubscribe_url)
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        headers["Message-ID"] = message_id_for(issue.pk, reader.subscriber_id)
    else:
        # A test send: its author reads no list to leave (its links lead to the archive,
        # which would refuse a one-click POST), and Django's default Message-ID would
        # name the machine's host.
        headers["Message-ID"] = make_msgid(domain=settings.MAIL_DOMAIN)
    if feedback := feedback_id(issue):
        headers["Feedback-ID"] = feedback
    return headers


def mail_date():
    return format_datetime(datetime.now(UTC))


def to_header(reader):
    # headerregistry quotes names and, unlike formataddr, accepts a non-ASCII local part.
    local, _, domain = reader.email.rpartition("@")
    return str(Address(display_name=reader.name, username=local, domain=domain))


def build_message(issue, reader, *, subject_prefix=""):
    """One AnymailMessage (a plain Django message for SMTP) for one reader."""
    subject, html, text = personalised_parts(issue, reader)
    newsletter = issue.newsletter
    message = AnymailMessage(
        subject=subject_prefix + subject,
        body=text,
        from_email=formataddr((newsletter.from_name, newsletter.from_email)),
        to=[to_header(reader)],
        reply_to=[newsletter.reply_to] if newsletter.reply_to else None,
        headers=bulk_headers(issue, reader),
        tags=["newsletter"],  # one tag: Postmark and others allow no more
        metadata={"issue": str(issue.pk), "delivery": delivery_reference.sign(reader.delivery_id)},
    )
    message.attach_alternative(html, "text/html")
    message.envelope_recipient = reader.email
    message.reader_name = reader.name
    return message


def reader_for_test_send(issue, address):
    """A reader for a test send: real data if the address subscribes, links that do nothing."""
    subscriber = Subscriber.objects.filter(email__iexact=address).first()
    web_url = web_url_for(issue)
    return Reader(
        delivery_id=None,
        subscriber_id=None,
        email=address,
        name=subscriber.name if subscriber else "",
        custom_fields=(subscriber.custom_fields if subscriber else {}) or {},
        unsubscribe_url=web_url,
        preferences_url=web_url,
    )


def subject_prefix_for_test_send():
    return _("[Test] ")
