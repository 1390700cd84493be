"""Postmark's batchWithTemplates, called directly for an issue's own stored template.

Why not through anymail here: anymail parses every recipient's address again on the way
out and every answer's `To` on the way back, and copies the message once per recipient;
with the issue stored as a template that was most of the worker's time per batch. The
request is the one anymail's Postmark backend builds for the same message (the tests
compare the mails the fake provider renders), and each answer is read the way
backends.partial_batch_outcomes reads Postmark's per-message answers.
"""

import json
from email.utils import formataddr

import requests
from anymail.utils import get_anymail_setting, parse_address_list
from django.conf import settings

from newsletter.sending import delivery_reference
from newsletter.sending.backends import PERMANENT, SENT, TRANSIENT, Outcome
from newsletter.sending.providers.esp_templates import (
    TEMPLATE_NOT_FOUND,
    TIMEOUT,
    PostmarkTemplates,
)
from newsletter.sending.ratelimit import retry_after_seconds

PERMANENT_CODES = (300, 406)  # invalid address, inactive recipient


class TemplateMissing(Exception):
    """Postmark refused every message: the named template does not exist (any more)."""


def send(issue, template, built):
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
    outcome = Outcome(TRANSIENT, error=error[:500], retry_after=retry_after)
    return {reader.delivery_id: outcome for reader in readers}


def answer_outcome(answer):
    code = answer.get("ErrorCode", 0) if isinstance(answer, dict) else -1
    if code == 0:
        return Outcome(SENT, provider_message_id=answer.get("MessageID", ""))
    text = f"postmark: {code} {answer.get('Message', '') if code != -1 else answer}"[:500]
    if code in PERMANENT_CODES:
        return Outcome(PERMANENT, error=text)
    return Outcome(TRANSIENT, error=text)
