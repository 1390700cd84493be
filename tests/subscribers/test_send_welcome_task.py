import pytest
from django.core import mail

from subscribers.models import Subscription
from subscribers.tasks import send_welcome_task

pytestmark = pytest.mark.django_db


def test_it_sends_the_newsletters_welcome_with_unsubscribe_headers(make_subscription, newsletter):
    newsletter.welcome_enabled = True
    newsletter.welcome_subject = "Welcome aboard"
    newsletter.welcome_body = "Hello **friend**,\n\nthanks for joining."
    newsletter.save()
    subscription = make_subscription(status=Subscription.Status.CONFIRMED)
    send_welcome_task(subscription_id=subscription.pk)
    message = mail.outbox[0]
    assert message.subject == "Welcome aboard"
    assert "thanks for joining." in message.body
    assert f"/u/{subscription.token}/" in message.body
    html = message.alternatives[0][0]
    assert "friend" in html and "<script" not in html
    assert message.extra_headers["List-Unsubscribe"] == (
        f"<http://testserver/u/{subscription.token}/>"
    )
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_it_sends_nothing_when_welcome_mails_are_off(make_subscription):
    subscription = make_subscription(status=Subscription.Status.CONFIRMED)
    send_welcome_task(subscription_id=subscription.pk)
    assert mail.outbox == []
