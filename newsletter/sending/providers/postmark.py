"""Everything Rundbrief knows about Postmark: one stored template per issue, the batch call
that names it, and how Postmark answers a batch message by message.

A stored template per issue (docs/sending.md, "Stored template per issue") lets a batch
call carry each reader's few merge values instead of their whole rendered mail. The
template holds the issue's merge form (subject, HTML and text with `{{{rbN}}}` where a
reader's value goes). Its alias is derived from the issue and a hash of that content, so a
changed issue gets a new template, every worker process computes the same alias without
asking anyone, and two processes that create it at once create the same thing.

The batchWithTemplates call goes out directly, not through anymail: anymail parses every
recipient's address again on the way out and every answer's `To` on the way back, and
copies the message once per recipient; with the issue stored as a template that was most
of the worker's time per batch (docs/performance.md, "Sending"). The request is the one
anymail's Postmark backend builds for the same message (the tests compare the mails the
fake provider renders).
"""

import hashlib
import json
import logging
import re
import threading
import time
from email.utils import formataddr

import requests
from anymail.utils import get_anymail_setting, parse_address_list
from django.conf import settings

from newsletter.models import Issue
from newsletter.sending import delivery_reference
from newsletter.sending.outcomes import PERMANENT, SENT, TRANSIENT, Outcome, bounded
from newsletter.sending.ratelimit import retry_after_seconds

logger = logging.getLogger(__name__)

ALIAS_PREFIX = "rundbrief-issue-"
ALIAS_RE = re.compile(rf"^{ALIAS_PREFIX}(\d+)-[0-9a-f]+$")
TEMPLATE_NOT_FOUND = 1101  # Postmark's ErrorCode when a send names an unknown template
PERMANENT_CODES = (300, 406)  # invalid address, inactive recipient
TIMEOUT = (5, 30)
REFUSAL_SECONDS = 600  # after this a refused template is tried again (a limit may be freed)


class TemplateMissing(Exception):
    """Postmark refused every message: the named template does not exist (any more)."""


class TemplateUnavailable(Exception):
    """The provider could not store the template now (outage, 429, network): retry."""


class TemplateRefused(Exception):
    """The provider will not store this template (limit reached, content, credentials)."""


def alias_for(issue, form):
    content = "\0".join((form.subject, form.html, form.text)).encode()
    digest = hashlib.sha256(content).hexdigest()[:16]
    return f"{ALIAS_PREFIX}{issue.pk}-{digest}"


_known = set()  # aliases this process has seen stored
_refused = {}  # alias -> (reason, when); meanwhile such an issue goes out another way
_known_lock = threading.Lock()


def ensure_template(issue, alias, form):
    """Store the issue's template at Postmark unless this process knows it is there."""
    with _known_lock:
        if alias in _known:
            return
        if is_refused(alias, locked=True):
            raise TemplateRefused(_refused[alias][0])
    api = PostmarkTemplates()
    try:
        created = api.create(alias, form, name=f"Rundbrief: issue {issue.pk}")
    except TemplateRefused as error:
        with _known_lock:
            _refused[alias] = (str(error), time.monotonic())
        raise
    with _known_lock:
        _known.add(alias)
    if created:
        api.delete_finished(keep=alias)


def is_refused(alias, locked=False):
    if not locked:
        with _known_lock:
            return is_refused(alias, locked=True)
    refused = _refused.get(alias)
    return refused is not None and time.monotonic() - refused[1] < REFUSAL_SECONDS


def forget_template(alias):
    """The provider says the template is gone: the next batch stores it again."""
    with _known_lock:
        _known.discard(alias)


class PostmarkTemplates:
    """Postmark's Templates API with the server token anymail sends with."""

    session = requests.Session()

    def __init__(self):
        self.token = get_anymail_setting("server_token", esp_name="Postmark", allow_bare=True)
        url = get_anymail_setting(
            "api_url", esp_name="Postmark", default="https://api.postmarkapp.com/"
        )
        self.url = url if url.endswith("/") else url + "/"

    def call(self, method, path, body=None, params=None):
        headers = {"Accept": "application/json", "X-Postmark-Server-Token": self.token}
        try:
            response = self.session.request(
                method, self.url + path, json=body, params=params, headers=headers,
                timeout=TIMEOUT,
            )  # fmt: skip
        except requests.RequestException as error:
            raise TemplateUnavailable(f"postmark templates: {error}") from error
        if response.status_code == 429 or response.status_code >= 500:
            raise TemplateUnavailable(f"postmark templates: {response.status_code}")
        return response

    def create(self, alias, form, *, name):
        """Store the template; True if this call created it, False if it was there."""
        body = {
            "Name": name,
            "Alias": alias,
            "TemplateType": "Standard",
            "Subject": form.subject,
            "HtmlBody": form.html,
            "TextBody": form.text,
        }
        response = self.call("POST", "templates", body)
        if response.ok:
            return True
        # Refused: another worker may have stored the same alias a moment ago.
        existing = self.call("GET", f"templates/{alias}")
        if existing.ok:
            stored = existing.json()
            if (stored.get("Subject"), stored.get("HtmlBody"), stored.get("TextBody")) != (
                form.subject, form.html, form.text,
            ):  # fmt: skip
                self.update(alias, body)  # edited by hand at Postmark: put ours back
            return False
        raise refusal(response)

    def update(self, alias, body):
        response = self.call("PUT", f"templates/{alias}", body)
        if not response.ok:
            raise refusal(response)

    def delete_finished(self, *, keep):
        """Delete Rundbrief's templates of issues that are sent or cancelled (Postmark allows
        about 100 templates per server). Best effort: a leftover is harmless, and a send
        that finds its template gone stores it again (send_with_template)."""
        try:
            listed = self.call(
                "GET", "templates", params={"Count": 500, "Offset": 0, "TemplateType": "Standard"}
            )
            templates = listed.json().get("Templates", []) if listed.ok else []
            ours = {
                t["Alias"]: int(match[1])
                for t in templates
                if (match := ALIAS_RE.match(t.get("Alias") or "")) and t["Alias"] != keep
            }
            unfinished = set(
                Issue.objects.filter(pk__in=set(ours.values()))
                .exclude(status__in=Issue.FINISHED)
                .values_list("pk", flat=True)
            )
            for alias, issue_id in ours.items():
                if issue_id not in unfinished:
                    self.call("DELETE", f"templates/{alias}")
        except (TemplateUnavailable, ValueError, KeyError, TypeError) as error:
            logger.warning("could not delete finished issues' templates: %s", error)


def refusal(response):
    return TemplateRefused(bounded(f"postmark templates: {response.status_code} {response.text}"))


def send_batch(issue, template, built):
    """One batchWithTemplates call; {delivery id: Outcome} for every built reader."""
    api = PostmarkTemplates()
    common = common_fields(issue, template)
    messages = [
        {
            **common,
            "To": parts.to,
            "TemplateModel": parts.merge_data,
            "Headers": [{"Name": name, "Value": value} for name, value in parts.headers.items()],
            "Metadata": {
                "issue": str(issue.pk),
                "delivery": delivery_reference.sign(parts.delivery_id),
            },
        }
        for _, parts in built
    ]
    readers = [reader for reader, _ in built]
    try:
        response = api.session.post(
            api.url + "email/batchWithTemplates",
            data=json.dumps({"Messages": messages}, ensure_ascii=False).encode(),
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "X-Postmark-Server-Token": api.token,
            },
            timeout=TIMEOUT,
        )
    except requests.RequestException as error:
        return everyone(readers, f"postmark: {error}")
    answers = parsed(response)
    if response.status_code != 200 or not isinstance(answers, list):
        message = answers.get("Message", "") if isinstance(answers, dict) else ""
        wait = retry_after_seconds(response)
        return everyone(readers, f"postmark: {response.status_code} {message}", wait)
    if len(answers) != len(readers):
        return everyone(readers, f"postmark: {len(answers)} answers for {len(readers)} messages")
    if all(answer.get("ErrorCode") == TEMPLATE_NOT_FOUND for answer in answers):
        raise TemplateMissing(template)
    return {
        reader.delivery_id: answer_outcome(answer)
        for reader, answer in zip(readers, answers, strict=True)
    }


def common_fields(issue, template):
    """What every message of the call carries, as anymail would format it."""
    newsletter = issue.newsletter
    fields = {
        "From": formatted(formataddr((newsletter.from_name, newsletter.from_email))),
        "Tag": "newsletter",
        "TemplateAlias": template,
        "InlineCss": False,  # inlined already, its at-rules kept on purpose
    }
    if newsletter.reply_to:
        fields["ReplyTo"] = formatted(newsletter.reply_to)
    stream = settings.SEND_ESP_MESSAGE_STREAM or get_anymail_setting(
        "message_stream", esp_name="Postmark", default=None
    )
    if stream:
        fields["MessageStream"] = stream
    return fields


def formatted(address):
    return parse_address_list([address])[0].address


def parsed(response):
    try:
        return response.json()
    except ValueError:
        return None


def everyone(readers, error, retry_after=0.0):
    """The whole call failed (network, 429, 5xx, a refused request): retry everyone."""
    outcome = Outcome(TRANSIENT, error=bounded(error), retry_after=retry_after)
    return {reader.delivery_id: outcome for reader in readers}


def answer_outcome(answer):
    code = answer.get("ErrorCode", 0) if isinstance(answer, dict) else -1
    if code == 0:
        return Outcome(SENT, provider_message_id=answer.get("MessageID", ""))
    text = bounded(f"postmark: {code} {answer.get('Message', '') if code != -1 else answer}")
    if code in PERMANENT_CODES:
        return Outcome(PERMANENT, error=text)
    return Outcome(TRANSIENT, error=text)


def send_with_template(issue, template, form, built):
    """Store the issue's template if needed, then one call naming it; {delivery id:
    Outcome} for every built reader. A template deleted at Postmark since this process
    stored it is stored again (Postmark refused every message then, so nothing went out).
    Raises TemplateRefused when Postmark will not store it: the caller goes another way."""
    readers = [reader for reader, _ in built]
    for _attempt in (1, 2):
        try:
            ensure_template(issue, template, form)
        except TemplateUnavailable as error:
            outcome = Outcome(TRANSIENT, error=bounded(str(error)))
            return {reader.delivery_id: outcome for reader in readers}
        try:
            return send_batch(issue, template, built)
        except TemplateMissing:
            forget_template(template)
    return everyone(readers, f"postmark: template {template} is missing")


def batch_extra():
    """What a batch through anymail's Postmark backend adds to its esp_extra."""
    if settings.SEND_ESP_MESSAGE_STREAM:
        return {"MessageStream": settings.SEND_ESP_MESSAGE_STREAM}
    return {}


def partial_batch_outcomes(error, messages):
    """Per-message answers of a batch that anymail turned into one error (`messages`: one
    item per message in the call, in order).

    Anymail raises for the whole call when one entry has an error code it does not know,
    although the other messages went out; reading the answers keeps them from being sent
    twice. Postmark answers in the order of the request.
    """
    try:
        answers = error.response.json()
    except (AttributeError, ValueError):
        return None
    if not isinstance(answers, list) or len(answers) != len(messages):
        return None
    return [answer_outcome(answer) for answer in answers]
