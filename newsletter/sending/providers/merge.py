"""The issue in a provider's merge syntax, and what each reader adds to a batch call.

The issue, rendered once, is turned once more into the provider's own template syntax:
every personal slot becomes a merge field such as Mailgun's `%recipient.rb3%`. Per reader
only the values travel, already escaped for their place (HTML text, URL attribute, plain
text, subject): the HTML and the text part use different keys. The mail the provider
builds is byte for byte what `RenderedIssue.personalise` gives for that reader.
"""

import logging
import re
from dataclasses import dataclass
from email.utils import formataddr

from anymail.message import AnymailMessage
from django.conf import settings

from newsletter.rendering import escape_for, join_parts
from newsletter.sending import delivery_reference, emails
from newsletter.sending.per_process import IssueCache

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MergeForm:
    """The issue once more, with merge fields where RenderedIssue has reader slots."""

    subject: str
    html: str
    text: str
    slots: tuple  # (key, placeholder index, escape context) per distinct merge field

    def values(self, rendered, recipient):
        """One reader's merge data: each value escaped for where its field stands."""
        values = rendered.values_for(recipient)
        return {
            key: escape_for(context, rendered.placeholders[index], values[index])
            for key, index, context in self.slots
        }


def merge_form(rendered, pattern):
    """Build the MergeForm; one key per distinct (placeholder, context), so a link used
    five times travels once per reader."""
    keys = {}

    def key_for(index, context):
        slot = (rendered.placeholders[index], context)
        if slot not in keys:
            keys[slot] = (f"rb{len(keys)}", index, context)
        return keys[slot][0]

    def merge_field(index, context):
        return pattern.format(key_for(index, context))

    subject = join_parts(rendered.subject_parts, merge_field, subject=True)
    html = join_parts(rendered.html_parts, merge_field)
    text = join_parts(rendered.text_parts, merge_field)
    return MergeForm(subject, html, text, tuple(keys.values()))


def literal_text(rendered):
    parts = rendered.subject_parts + rendered.html_parts + rendered.text_parts
    return "".join(part for part in parts if isinstance(part, str))


merge_forms = IssueCache()


def merge_form_for(issue, found):
    """The issue's MergeForm for this provider (cached per edit), or None when the issue's
    own text contains the provider's template syntax."""
    version = (issue.updated_at, found.merge_field)
    return merge_forms.get(issue.pk, version, lambda: new_merge_form(issue, found))


def new_merge_form(issue, found):
    rendered = emails.rendered_issue(issue)
    if found.reserved and re.search(found.reserved, literal_text(rendered)):
        logger.info("issue %s: its text uses the provider's template syntax", issue.pk)
        return None
    return merge_form(rendered, found.merge_field)


@dataclass
class ReaderParts:
    """What one reader adds to a batch call."""

    address: str
    to: str
    merge_data: dict
    headers: dict
    delivery_id: int | None


def reader_parts(issue, plan, reader, date=None):
    headers = emails.bulk_headers(issue, reader, date=date)
    if plan.form is None:  # stored pass-through template: the finished parts travel
        subject, html, text = emails.personalised_parts(issue, reader)
        data = {"subject": subject, "html_body": html, "text_body": text}
    else:
        recipient = emails.recipient_for(issue, reader)
        data = plan.form.values(emails.rendered_issue(issue), recipient)
    return ReaderParts(
        address=reader.email,
        to=to_header(reader),
        merge_data=data,
        headers=headers,
        delivery_id=reader.delivery_id,
    )


PLAIN_NAME = re.compile(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*")


def to_header(reader):
    """emails.to_header without the email package for the common name (letters, digits
    and single spaces need no quoting), which is most of a batch's headers."""
    if not reader.name:
        return reader.email
    if PLAIN_NAME.fullmatch(reader.name):
        return f"{reader.name} <{reader.email}>"
    return emails.to_header(reader)


def batch_message(issue, plan, built, esp_extra):
    """One anymail message for many readers (anymail makes it a batch send)."""
    newsletter = issue.newsletter
    form = plan.form
    message = AnymailMessage(
        subject=form.subject if form else "",
        body=form.text if form else "",
        from_email=formataddr((newsletter.from_name, newsletter.from_email)),
        to=[parts.to for _, parts in built],
        reply_to=[newsletter.reply_to] if newsletter.reply_to else None,
        tags=["newsletter"],
        metadata={"issue": str(issue.pk)},
    )
    if form:
        message.attach_alternative(form.html, "text/html")
    else:
        message.template_id = settings.SEND_ESP_TEMPLATE
    message.merge_data = {parts.address: parts.merge_data for _, parts in built}
    message.merge_headers = {parts.address: parts.headers for _, parts in built}
    message.merge_metadata = {
        parts.address: {"delivery": delivery_reference.sign(parts.delivery_id)}
        for _, parts in built
    }
    message.esp_extra = esp_extra
    return message
