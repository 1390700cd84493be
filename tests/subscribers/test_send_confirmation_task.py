import re

import pytest
from django.core import mail

from subscribers.models import Subscription
from subscribers.tasks import send_confirmation_task

pytestmark = pytest.mark.django_db


def test_it_mails_a_signed_link_with_text_and_html_parts(make_subscription, newsletter):
    subscription = make_subscription()
    send_confirmation_task(subscription_id=subscription.pk)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["reader@example.org"]
    assert message.subject == "Please confirm your subscription to Garden Notes"
    assert message.from_email == "Garden Notes <notes@example.org>"
    assert message.extra_headers["Message-ID"].endswith("@testserver>")
    link = re.search(r"http://testserver/confirm/\S+/", message.body).group(0)
    assert subscription.token in link  # the signed value carries the random secret
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and link in html


def test_it_sends_nothing_once_the_subscription_is_no_longer_pending(make_subscription):
    subscription = make_subscription(status=Subscription.Status.CONFIRMED)
    send_confirmation_task(subscription_id=subscription.pk)
    send_confirmation_task(subscription_id=999999)
    assert mail.outbox == []


def test_the_html_part_names_the_newsletter_and_follows_dark_mode(make_subscription, newsletter):
    send_confirmation_task(subscription_id=make_subscription().pk)
    html, _mimetype = mail.outbox[0].alternatives[0]
    assert re.search(r">\s*Garden Notes\s*</td>", html)  # the heading, not just the subject
    assert '<meta name="color-scheme" content="light dark">' in html
    dark = html.split("@media (prefers-color-scheme: dark)")[1].split("</style>")[0]
    assert ".rb-card" in dark and ".rb-text" in dark
    assert 'class="rb-card"' in html and f"border-top:4px solid {newsletter.accent_colour}" in html
