"""The whole double opt-in path: form → real worker → loopback SMTP → link → confirm."""

import re
import signal
import subprocess

import pytest
from django.test import Client

from subscribers.models import Event, Subscription
from tests.factories import signup_data

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_mails_the_link_and_only_a_post_on_it_confirms(
    celery_worker, smtp_server, newsletter
):
    client = Client()
    response = client.post("/garden/subscribe/", signup_data("ada@example.org"))
    assert response.status_code == 302

    received = smtp_server.wait_for_mail("ada@example.org")[0]
    message = received.message
    assert message["Subject"] == "Please confirm your subscription to Garden Notes"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    path = re.search(r"http://testserver(/confirm/\S+/)", text).group(1)

    # A link scanner's GET: a page with a button, and nothing changes.
    page = client.get(path)
    assert page.status_code == 200 and b"<button" in page.content
    subscription = Subscription.objects.get()
    assert subscription.status == Subscription.Status.PENDING

    done = client.post(path)
    assert done.status_code == 200
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CONFIRMED
    assert Event.objects.filter(kind=Event.Kind.CONFIRMED).count() == 1
    stop_gracefully(celery_worker)


def stop_gracefully(worker):
    """SIGTERM to the main process only: it winds down its own pool children.

    (Signalling the whole group kills the pool children under the main process, which
    with the embedded file broker can leave it waiting for them past the fixture's limit.)
    """
    worker.process.send_signal(signal.SIGTERM)
    try:
        worker.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
