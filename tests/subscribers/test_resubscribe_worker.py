"""Unsubscribed by accident, subscribed again at once: a confirmation mail arrives."""

import re

import pytest
from django.test import Client

from subscribers.models import Subscription
from tests.factories import signup_data
from tests.subscribers.test_confirmation_worker import stop_gracefully

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def confirm_path(received):
    text = received.message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"http://testserver(/confirm/\S+/)", text).group(1)


def test_subscribing_again_right_after_unsubscribing_mails_a_confirmation(
    celery_worker, smtp_server, newsletter
):
    client = Client()
    client.post("/garden/subscribe/", signup_data("ada@example.org"))
    first = smtp_server.wait_for_mail("ada@example.org")[0]
    client.post(confirm_path(first))
    subscription = Subscription.objects.get()
    assert subscription.status == Subscription.Status.CONFIRMED

    client.post(f"/u/{subscription.token}/")
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.UNSUBSCRIBED

    client.post("/garden/subscribe/", signup_data("ada@example.org"))
    mails = smtp_server.wait_for_mail("ada@example.org", count=2)
    assert len(mails) == 2
    client.post(confirm_path(mails[1]))
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CONFIRMED
    stop_gracefully(celery_worker)
