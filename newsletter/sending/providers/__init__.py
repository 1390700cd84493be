"""Batch sends through a provider's API: one call carries up to the provider's maximum.

Three ways to carry many personalised readers in one call (docs/sending.md, "Speed"):

- **Merge fields** (SendGrid, Mailgun, Mailjet, Brevo): the issue in the provider's own
  template syntax (merge.py); per reader only the merge values travel.
- **A stored template per issue** (Postmark): the provider merges only into stored
  templates, so the merge form is stored as one (postmark.py) and each call names it;
  per reader only the merge values travel, as for merge fields.
- **A stored pass-through template** (Amazon SES; Postmark when its per-issue template
  cannot be stored or the issue's text uses Mustachio syntax): the site stores one whose
  subject, HTML and text are single raw variables (SEND_ESP_TEMPLATE) and each reader's
  finished parts travel as its data.

Every reader's own List-Unsubscribe and Message-ID go as per-recipient headers
(anymail's merge_headers), the delivery id as per-recipient metadata. A provider that
cannot carry a per-recipient List-Unsubscribe is never batched: one call per reader then,
the per-message path at the end of this module, which every other Django mail backend
but SMTP takes too. Readers a batch cannot take safely (non-ASCII or repeated addresses)
are sent one by one.
"""

import logging
import smtplib
from dataclasses import dataclass, field

from anymail.exceptions import AnymailAPIError, AnymailError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import get_connection

from newsletter.sending import emails, outcomes
from newsletter.sending.outcomes import PERMANENT, SENT, TRANSIENT, Outcome, bounded
from newsletter.sending.providers import mailjet, postmark
from newsletter.sending.providers.merge import (
    MergeForm,
    batch_message,
    merge_form_for,
    reader_parts,
)
from newsletter.sending.ratelimit import retry_after_seconds
from newsletter.sending.transport import is_anymail, transport_name

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


# Per-call maxima from the providers' documentation.
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
    if not is_anymail():
        return None
    return PROVIDERS.get(transport_name())


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
    alias = postmark.alias_for(issue, form)
    if postmark.is_refused(alias):
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
    answers = send_one_by_one(issue, alone)
    if len(batchable) == 1:
        answers.update(send_one_by_one(issue, batchable))
    elif batchable:
        answers.update(send_together(issue, plan, batchable))
    return answers


def send_together(issue, plan, readers):
    answers, built = {}, []
    date = emails.mail_date()  # one call, one moment: formatted once, not per reader
    for reader in readers:
        try:
            built.append((reader, reader_parts(issue, plan, reader, date)))
        except Exception as error:  # one reader's data that cannot become a mail
            answers[reader.delivery_id] = outcomes.cannot_build(reader, error)
    if built:
        answers.update(call_provider(issue, plan, built))
    return answers


def call_provider(issue, plan, built):
    """One API call for the built readers; an answer for each of them."""
    if plan.template:
        return call_with_stored_template(issue, plan, built)
    transport = transport_name()
    message = batch_message(issue, plan, built, esp_extra(plan.provider, transport))
    message.connection = django_mail().connection  # a kept-open session
    readers = [reader for reader, _ in built]

    def everyone(outcome):
        return {reader.delivery_id: outcome for reader in readers}

    try:
        message.send()  # the network call, outside any database transaction
    except AnymailAPIError as error:
        if refused_as_a_whole(error):
            # One bad address makes SendGrid, Mailgun or Brevo refuse the whole call:
            # send these readers one by one so that only the bad one fails.
            return refusals_made_permanent(send_one_by_one(issue, readers), transport)
        # Only Postmark answers an error call message by message; for any other
        # provider the answer does not parse as such and the call fails as a whole.
        partial = postmark.partial_batch_outcomes(error, readers)
        if partial:
            return {r.delivery_id: o for r, o in zip(readers, partial, strict=True)}
        return everyone(anymail_error_outcome(error, transport))
    except AnymailRecipientsRefused as error:
        return everyone(anymail_error_outcome(error, transport))
    except AnymailError:
        # Anymail cannot build this payload for the provider (say, a header value it
        # cannot carry): each reader then gets their own answer.
        logger.exception("issue %s: batch refused by anymail, sending one by one", issue.pk)
        return send_one_by_one(issue, readers)
    except OSError as error:
        return everyone(Outcome(TRANSIENT, error=bounded(f"{transport}: {error}")))
    return recipient_outcomes(plan.provider, message, built, transport)


def call_with_stored_template(issue, plan, built):
    """The issue's own template at Postmark; when Postmark will not store it, the readers
    go through the pass-through template, or one by one."""
    try:
        return postmark.send_with_template(issue, plan.template, plan.form, built)
    except postmark.TemplateRefused as error:
        logger.warning("issue %s: the provider refused its template: %s", issue.pk, error)
    readers = [reader for reader, _ in built]
    fallback = pass_through_plan(plan.provider, plan.size)
    if fallback is None:
        return send_one_by_one(issue, readers)
    return send_together(issue, fallback, readers)


def refused_as_a_whole(error):
    """A 400/422 for the whole call: something in the request, not the provider."""
    return getattr(error, "status_code", None) in (400, 422)


def refusals_made_permanent(answers, transport):
    """After a refused batch went out one by one: if others of the batch got through, a
    reader's own 400/422 is about that reader, not the account: do not retry it."""
    if not any(outcome.status == SENT for outcome in answers.values()):
        return answers  # all refused: maybe the account or the request; retry later
    prefixes = tuple(f"{transport}: {code} " for code in (400, 422))
    return {
        delivery_id: Outcome(PERMANENT, error=outcome.error)
        if outcome.status == TRANSIENT and outcome.error.startswith(prefixes)
        else outcome
        for delivery_id, outcome in answers.items()
    }


def esp_extra(found, transport):
    # A copy: anymail pops keys from it.
    extra = {k: dict(v) if isinstance(v, dict) else v for k, v in found.esp_extra.items()}
    if transport == "postmark":
        extra.update(postmark.batch_extra())
    return extra


def recipient_outcomes(found, message, built, transport):
    """Per-reader answers from anymail_status.recipients (partial refusals included)."""
    recipients = message.anymail_status.recipients
    detail = mailjet.mailjet_errors(message) if found.failed_is_permanent else {}
    answers = {}
    for reader, parts in built:
        status = recipients.get(parts.address)
        if status is not None and status.status == "failed" and found.failed_is_permanent:
            answers[reader.delivery_id] = detail.get(
                parts.address, Outcome(PERMANENT, error=f"{transport}: failed")
            )
        else:
            answers[reader.delivery_id] = anymail_recipient_outcome(status, transport)
    return answers


def send_one_by_one(issue, readers):
    """The per-reader path: one full message and one call per reader."""
    answers = {}
    for reader in readers:
        try:
            message = emails.build_message(issue, reader)
        except Exception as error:
            answers[reader.delivery_id] = outcomes.cannot_build(reader, error)
            continue
        answers[reader.delivery_id] = django_mail().send_one(message)
    return answers


# --- the per-message path ------------------------------------------------------------
def anymail_error_outcome(error, transport):
    """A whole-call ESP error: 429/5xx/network are transient, so is anything account-wide."""
    status = getattr(error, "status_code", None)
    error_text = bounded(f"{transport}: {status or ''} {error}".strip())
    if isinstance(error, AnymailRecipientsRefused):
        return Outcome(PERMANENT, error=error_text)
    wait = retry_after_seconds(getattr(error, "response", None))
    return Outcome(TRANSIENT, error=error_text, retry_after=wait)


def anymail_recipient_outcome(status, transport):
    """One recipient's answer in anymail_status; none at all is retried."""
    if status is None:
        return Outcome(TRANSIENT, error="no status from the provider")
    if status.status in ("rejected", "invalid"):
        return Outcome(PERMANENT, error=f"{transport}: {status.status}")
    if status.status == "failed":
        return Outcome(TRANSIENT, error=f"{transport}: failed")
    return Outcome(SENT, provider_message_id=status.message_id or "")


class DjangoMail:
    """The configured Django backend, one message per call on a connection kept open."""

    def __init__(self):
        self.connection = get_connection()
        self.connection.open()
        self.transport = transport_name()

    def send_one(self, message):
        message.connection = self.connection
        try:
            message.send()
        except (AnymailAPIError, AnymailRecipientsRefused) as error:
            return anymail_error_outcome(error, self.transport)
        except AnymailError as error:  # bad payload for this message: do not retry it
            return Outcome(PERMANENT, error=bounded(f"{self.transport}: {error}"))
        except (OSError, smtplib.SMTPException) as error:
            return Outcome(TRANSIENT, error=bounded(f"{type(error).__name__}: {error}"))
        status = getattr(message, "anymail_status", None)
        recipient = status.recipients.get(message.envelope_recipient) if status else None
        if status is not None and status.recipients:
            return anymail_recipient_outcome(recipient, self.transport)
        return Outcome(SENT, provider_message_id=message.extra_headers.get("Message-ID", ""))


_django_mail = {}


def django_mail():
    """This process's DjangoMail for the configured backend."""
    backend = settings.EMAIL_BACKEND
    if backend not in _django_mail:
        _django_mail[backend] = DjangoMail()
    return _django_mail[backend]
