"""Batch sends through a provider's API: one call carries up to the provider's maximum.

Two ways to carry many personalised readers in one call (docs/sending.md, "Speed"):

- **Merge fields** (SendGrid, Mailgun, Mailjet, Brevo): the issue, rendered once, is
  turned once more into the provider's own template syntax: every personal slot becomes a
  merge field such as Mailgun's `%recipient.rb3%`. Per reader only the values travel,
  already escaped for their place (HTML text, URL attribute, plain text, subject): the
  HTML and the text part use different keys. The mail the provider builds is byte for
  byte what `RenderedIssue.personalise` gives for that reader.
- **A stored template per issue** (Postmark): the provider merges only into stored
  templates, so the merge form is stored as one
  (newsletter/sending/providers/esp_templates.py) and each call names it; per reader only
  the merge values travel, as for merge fields.
- **A stored pass-through template** (Amazon SES; Postmark when its per-issue template
  cannot be stored or the issue's text uses Mustachio syntax): the site stores one whose
  subject, HTML and text are single raw variables (SEND_ESP_TEMPLATE) and each reader's
  finished parts travel as its data.

Every reader's own List-Unsubscribe and Message-ID go as per-recipient headers
(anymail's merge_headers), the delivery id as per-recipient metadata. A provider that
cannot carry a per-recipient List-Unsubscribe is never batched: one call per reader then.
Readers a batch cannot take safely (non-ASCII or repeated addresses) are sent one by one.
"""

import logging
import re
import threading
from dataclasses import dataclass, field
from email.utils import formataddr

from anymail.exceptions import AnymailAPIError, AnymailError, AnymailRecipientsRefused
from anymail.message import AnymailMessage
from django.conf import settings

from newsletter.rendering import escape_for, join_parts
from newsletter.sending import backends, delivery_reference, emails
from newsletter.sending.backends import PERMANENT, SENT, TRANSIENT, Outcome
from newsletter.sending.providers import esp_templates, postmark_batch

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Provider:
    """What one anymail ESP can do in a batch call."""

    max_batch: int  # recipients per API call (anymail never splits a batch)
    merge_field: str = ""  # str.format pattern of a merge field; "" = stored template only
    per_recipient_headers: bool = True  # delivers a per-recipient List-Unsubscribe
    # Literal text the provider would read as its own template syntax: an issue whose
    # rendering contains it is sent one call per reader instead (never mangled).
    reserved: str = ""
    esp_extra: dict = field(default_factory=dict)
    failed_is_permanent: bool = False  # anymail's per-recipient "failed" is a refusal
    stored_template: bool = False  # merges only into stored templates: store the form


# Per-call maxima from the providers' documentation (shared DELIVERABILITY.md).
PROVIDERS = {
    "sendgrid": Provider(
        1000,
        merge_field="-{}-",  # legacy substitutions: exact string replacement
        reserved=r"-rb\d+-",
        esp_extra={"merge_field_format": "-{}-"},
    ),
    "mailgun": Provider(1000, merge_field="%recipient.{}%", reserved=r"%recipient\."),
    "mailjet": Provider(
        50,
        # Mailjet's template language; the empty default keeps an empty value legal.
        merge_field='{{{{var:{}:""}}}}',
        reserved=r"\{\{|\{%|\{#",
        esp_extra={"Globals": {"TemplateLanguage": True}},
        failed_is_permanent=True,  # per-message errors in a batch are validation errors
    ),
    "brevo": Provider(
        1000,
        # Brevo escapes params by default; values arrive escaped already.
        merge_field="{{% autoescape off %}}{{{{ params.{} }}}}{{% endautoescape %}}",
        reserved=r"\{\{|\{%|\{#",
    ),
    "sendinblue": Provider(
        1000,
        merge_field="{{% autoescape off %}}{{{{ params.{} }}}}{{% endautoescape %}}",
        reserved=r"\{\{|\{%|\{#",
    ),
    "postmark": Provider(
        500,
        merge_field="{{{{{{{}}}}}}}",  # Mustachio's raw variable: values arrive escaped
        reserved=r"\{\{|\}\}",
        # The HTML is inlined already (its at-rules kept on purpose): send it as it is.
        esp_extra={"InlineCss": False},
        stored_template=True,
    ),
    "amazon_ses": Provider(50),
    # SparkPost replaces a custom List-Unsubscribe with its own; Resend batches cannot
    # carry per-reader content; Mailtrap and Unisender Go merge only into stored templates.
    "sparkpost": Provider(10000, merge_field="{{{{{{{}}}}}}}", per_recipient_headers=False),
    "resend": Provider(100, per_recipient_headers=False),
    "mailtrap": Provider(500, per_recipient_headers=False),
    "unisender_go": Provider(500, per_recipient_headers=False),
}


def provider():
    """The configured anymail ESP's batch abilities, or None (SMTP, outbox, unknown)."""
    if not settings.EMAIL_BACKEND.startswith("anymail.backends."):
        return None
    return PROVIDERS.get(backends.transport_name())


def batch_size():
    """Recipients per call for the configured provider when it can batch at all, else 1."""
    found = provider()
    if found is None or not found.per_recipient_headers:
        return 1
    if not found.merge_field and not settings.SEND_ESP_TEMPLATE:
        return 1
    if settings.SEND_BATCH_SIZE:
        return max(1, min(settings.SEND_BATCH_SIZE, found.max_batch))
    return found.max_batch


# --- the issue in the provider's merge syntax ------------------------------------------
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


_forms = {}
_forms_lock = threading.Lock()


def merge_form_for(issue, found):
    """The issue's MergeForm for this provider (cached per edit), or None when the issue's
    own text contains the provider's template syntax."""
    cache_key = (issue.pk, issue.updated_at, found.merge_field)
    with _forms_lock:
        if cache_key in _forms:
            return _forms[cache_key]
    rendered = emails.rendered_issue(issue)
    form = None
    if not (found.reserved and re.search(found.reserved, literal_text(rendered))):
        form = merge_form(rendered, found.merge_field)
    else:
        logger.info("issue %s: its text uses the provider's template syntax", issue.pk)
    with _forms_lock:
        _forms.clear()  # one issue at a time is the common case; keep memory flat
        _forms[cache_key] = form
    return form


@dataclass(frozen=True)
class Plan:
    """How a chunk of readers of an issue goes out: size, (for merge fields) form, and
    the alias of the form's stored template where the provider needs one."""

    provider: Provider
    size: int
    form: MergeForm | None = None
    template: str = ""


def plan_for(issue):
    """The batch plan for this issue with the configured provider, or None (one call per
    reader: no batch API, no per-recipient headers, or provider syntax in the issue)."""
    size = batch_size()
    if size <= 1:
        return None
    found = provider()
    if not found.merge_field:
        return Plan(found, size)
    form = merge_form_for(issue, found)
    if form is None:
        return pass_through_plan(found, size)
    if not found.stored_template:
        return Plan(found, size, form)
    if not settings.SEND_ESP_STORE_TEMPLATES:  # the site keeps templates out of its account
        return pass_through_plan(found, size)
    alias = esp_templates.alias_for(issue, form)
    if esp_templates.is_refused(alias):
        return pass_through_plan(found, size)
    return Plan(found, size, form, template=alias)


def pass_through_plan(found, size):
    """Where the issue cannot be stored as a template of its own, a provider that merges
    only into stored templates can still carry finished parts through SEND_ESP_TEMPLATE."""
    if found.stored_template and settings.SEND_ESP_TEMPLATE:
        return Plan(found, size)
    return None


# --- sending a batch -------------------------------------------------------------------
def send_batch(issue, plan, readers):
    """Send readers in one API call; returns {delivery_id: Outcome} for every reader."""
    batchable, alone, seen = [], [], set()
    for reader in readers:
        address = reader.email.lower()
        if reader.email.isascii() and address not in seen:
            batchable.append(reader)
            seen.add(address)
        else:
            alone.append(reader)
    outcomes = send_one_by_one(issue, alone)
    if len(batchable) == 1:
        outcomes.update(send_one_by_one(issue, batchable))
    elif batchable:
        outcomes.update(send_together(issue, plan, batchable))
    return outcomes


def send_together(issue, plan, readers):
    outcomes, built = {}, []
    date = emails.mail_date()  # one call, one moment: formatting it 500 times cost 6 %
    for reader in readers:
        try:
            built.append((reader, reader_parts(issue, plan, reader, date)))
        except Exception as error:  # one reader's data that cannot become a mail
            logger.exception("delivery %s: cannot build the message", reader.delivery_id)
            outcomes[reader.delivery_id] = Outcome(PERMANENT, error=f"build: {error}"[:500])
    if built:
        outcomes.update(call_provider(issue, plan, built))
    return outcomes


def call_provider(issue, plan, built):
    """One API call for the built readers; an answer for each of them."""
    if plan.template:
        return call_with_stored_template(issue, plan, built)
    message = batch_message(issue, plan, built)
    message.connection = backends.django_mail().connection  # a kept-open session
    readers = [reader for reader, _ in built]

    def everyone(outcome):
        return {reader.delivery_id: outcome for reader in readers}

    try:
        message.send()  # the network call, outside any database transaction
    except AnymailAPIError as error:
        if refused_as_a_whole(error):
            # One bad address makes SendGrid, Mailgun or Brevo refuse the whole call:
            # send these readers one by one so that only the bad one fails.
            return refusals_made_permanent(send_one_by_one(issue, readers))
        partial = backends.partial_batch_outcomes(error, readers)
        if partial:
            return {r.delivery_id: o for r, o in zip(readers, partial, strict=True)}
        return everyone(backends.anymail_error_outcome(error))
    except AnymailRecipientsRefused as error:
        return everyone(backends.anymail_error_outcome(error))
    except AnymailError:
        # Anymail cannot build this payload for the provider (say, a header value it
        # cannot carry): each reader then gets their own answer.
        logger.exception("issue %s: batch refused by anymail, sending one by one", issue.pk)
        return send_one_by_one(issue, readers)
    except OSError as error:
        return everyone(Outcome(TRANSIENT, error=f"{backends.transport_name()}: {error}"[:500]))
    return recipient_outcomes(plan.provider, message, built)


def store_template(issue, plan, built):
    """Make sure the plan's template is stored: None when it is, else every reader's
    outcome (retry later when the provider is out; another way when it refuses)."""
    readers = [reader for reader, _ in built]
    try:
        esp_templates.ensure_template(issue, plan.template, plan.form)
    except esp_templates.TemplateUnavailable as error:
        return {
            reader.delivery_id: Outcome(TRANSIENT, error=str(error)[:500]) for reader in readers
        }
    except esp_templates.TemplateRefused as error:
        logger.warning("issue %s: the provider refused its template: %s", issue.pk, error)
        fallback = pass_through_plan(plan.provider, plan.size)
        if fallback is None:
            return send_one_by_one(issue, readers)
        return send_together(issue, fallback, readers)
    return None


def call_with_stored_template(issue, plan, built):
    """The issue's own template at Postmark: store it if needed, then one call naming it.
    A template deleted at the provider since this process stored it is stored again
    (Postmark refused every message then, so nothing went out)."""
    for _attempt in (1, 2):
        outcomes = store_template(issue, plan, built)
        if outcomes is not None:
            return outcomes
        try:
            return postmark_batch.send(issue, plan.template, built)
        except postmark_batch.TemplateMissing:
            esp_templates.forget_template(plan.template)
    readers = [reader for reader, _ in built]
    return postmark_batch.everyone(readers, f"postmark: template {plan.template} is missing")


def refused_as_a_whole(error):
    """A 400/422 for the whole call: something in the request, not the provider."""
    return getattr(error, "status_code", None) in (400, 422)


def refusals_made_permanent(outcomes):
    """After a refused batch went out one by one: if others of the batch got through, a
    reader's own 400/422 is about that reader, not the account: do not retry it."""
    if not any(outcome.status == SENT for outcome in outcomes.values()):
        return outcomes  # all refused: maybe the account or the request; retry later
    prefixes = tuple(f"{backends.transport_name()}: {code} " for code in (400, 422))
    return {
        delivery_id: Outcome(PERMANENT, error=outcome.error)
        if outcome.status == TRANSIENT and outcome.error.startswith(prefixes)
        else outcome
        for delivery_id, outcome in outcomes.items()
    }


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
    and single spaces need no quoting): 500 parses per call add up."""
    if not reader.name:
        return reader.email
    if PLAIN_NAME.fullmatch(reader.name):
        return f"{reader.name} <{reader.email}>"
    return emails.to_header(reader)


def batch_message(issue, plan, built):
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
    message.esp_extra = esp_extra(plan.provider)
    return message


def esp_extra(found):
    # A copy: anymail pops keys from it.
    extra = {k: dict(v) if isinstance(v, dict) else v for k, v in found.esp_extra.items()}
    if backends.transport_name() == "postmark" and settings.SEND_ESP_MESSAGE_STREAM:
        extra["MessageStream"] = settings.SEND_ESP_MESSAGE_STREAM
    return extra


def recipient_outcomes(found, message, built):
    """Per-reader answers from anymail_status.recipients (partial refusals included)."""
    recipients = message.anymail_status.recipients
    detail = mailjet_errors(message) if found.failed_is_permanent else {}
    outcomes = {}
    for reader, parts in built:
        status = recipients.get(parts.address)
        if status is not None and status.status == "failed" and found.failed_is_permanent:
            outcomes[reader.delivery_id] = detail.get(
                parts.address, Outcome(PERMANENT, error=f"{backends.transport_name()}: failed")
            )
        else:
            outcomes[reader.delivery_id] = backends.anymail_recipient_outcome(status)
    return outcomes


def mailjet_errors(message):
    """Mailjet answers a batch message by message, in request order, with the reason."""
    try:
        answers = message.anymail_status.esp_response.json()["Messages"]
    except (AttributeError, KeyError, TypeError, ValueError):
        return {}
    addresses = list(message.merge_data)
    found = {}
    for address, answer in zip(addresses, answers, strict=False):
        if not isinstance(answer, dict) or answer.get("Status") == "success":
            continue
        errors = answer.get("Errors") or [{}]
        code = errors[0].get("StatusCode") or 400
        text = f"mailjet: {code} {errors[0].get('ErrorMessage', '')}".strip()[:500]
        status = TRANSIENT if code == 429 or code >= 500 else PERMANENT
        found[address] = Outcome(status, error=text)
    return found


def send_one_by_one(issue, readers):
    """The per-reader path: one full message and one call per reader."""
    outcomes = {}
    for reader in readers:
        try:
            message = emails.build_message(issue, reader)
        except Exception as error:
            logger.exception("delivery %s: cannot build the message", reader.delivery_id)
            outcomes[reader.delivery_id] = Outcome(PERMANENT, error=f"build: {error}"[:500])
            continue
        outcomes[reader.delivery_id] = backends.send_messages([message])[0]
    return outcomes
