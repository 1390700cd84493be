"""The welcome mail is rendered like an issue: placeholders filled, the issue's HTML
template, a real text part, and the list headers; sent by a real worker over SMTP."""

import re
from email import message_from_bytes, policy

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from subscribers.emails import confirmation_url
from subscribers.models import Subscriber, Subscription

pytestmark = pytest.mark.django_db

WELCOME_BODY = """\
## Hello {{ name | default: "friend" }}

Thanks for joining **Garden Notes** from {{ custom.city | default: "your town" }}.

- seeds in *spring*
- [our archive](https://example.org/archive)

Change your mind? {{ unsubscribe_url }}
"""


def header(raw, name):
    """A header as its raw bytes say it (folded lines joined), not as a parser decodes it."""
    match = re.search(rb"^" + name.encode() + rb": (.*?)\r?\n(?![ \t])", raw, re.M | re.I | re.S)
    return re.sub(r"\r?\n[ \t]", " ", match.group(1).decode()) if match else None


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_mails_the_welcome_filled_in_with_the_list_headers(
    celery_worker, smtp_server, newsletter, settings
):
    newsletter.welcome_enabled = True
    newsletter.welcome_subject = "Welcome, {{ name }}!"
    newsletter.welcome_body = WELCOME_BODY
    newsletter.save()
    reader = Subscriber.objects.create(
        email="ada@example.org", name="Ada", custom_fields={"city": "Leipzig"}
    )
    subscription = Subscription.objects.create(
        subscriber=reader, newsletter=newsletter, source=Subscription.Source.FORM
    )
    assert Client().post(confirmation_url(subscription).removeprefix("http://testserver"))

    raw = smtp_server.wait_for_mail("ada@example.org", timeout=30)[0].raw
    assert b"{{" not in raw and b"}}" not in raw
    assert header(raw, "Subject") == "Welcome, Ada!"
    assert header(raw, "List-Id") == f'"Garden Notes" <garden.{settings.MAIL_DOMAIN}>'
    assert header(raw, "List-Unsubscribe") == f"<http://testserver/u/{subscription.token}/>"
    assert header(raw, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert header(raw, "Message-ID").endswith(f"@{settings.MAIL_DOMAIN}>")
    assert re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}", header(raw, "Date"))

    message = message_from_bytes(raw, policy=policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Hello Ada" in text and "from Leipzig." in text
    assert f"http://testserver/u/{subscription.token}/" in text
    for markdown in ("**", "## ", "*spring*", "](https://"):
        assert markdown not in text, markdown
    assert "our archive [1]" in text and "[1] https://example.org/archive" in text
    assert "<h2" in html and "Hello Ada" in html and "<strong>Garden Notes</strong>" in html
    assert "You receive this mail because you subscribed to Garden Notes." in text


def test_an_unknown_placeholder_in_the_welcome_is_refused_at_save(newsletter):
    newsletter.welcome_subject = "Hi {{ nmae }}"
    newsletter.welcome_body = "Dear {{ first_name }},"
    with pytest.raises(ValidationError) as error:
        newsletter.full_clean()
    errors = error.value.message_dict
    assert errors["welcome_subject"][0].startswith("Unknown placeholder: {{ nmae }}.")
    assert errors["welcome_body"][0].startswith("Unknown placeholder: {{ first_name }}.")
    assert "{{ custom.city }}" in errors["welcome_body"][0]  # the same help as an issue's


def test_the_welcome_falls_back_to_a_subject_naming_the_newsletter(make_subscription, newsletter):
    from django.core import mail

    from subscribers.tasks import send_welcome_task

    newsletter.welcome_enabled = True
    newsletter.save()
    subscription = make_subscription(status=Subscription.Status.CONFIRMED)
    send_welcome_task(subscription_id=subscription.pk)
    assert mail.outbox[0].subject == "Welcome to Garden Notes"
    assert "Garden Notes" in mail.outbox[0].body
