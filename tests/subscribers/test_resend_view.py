from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from subscribers.models import Event, Subscription
from subscribers.tasks import resend_confirmation_task

pytestmark = pytest.mark.django_db


def run_queued(callbacks):
    """Run the resend tasks a request queued, here, as the worker would."""
    for callback in callbacks:
        assert callback.func.__self__.name == resend_confirmation_task.name
        resend_confirmation_task(**callback.keywords)


def test_a_pending_address_gets_a_new_mail_and_the_same_answer_as_unknown_ones(
    client, newsletter, make_subscription, django_capture_on_commit_callbacks
):
    subscription = make_subscription(confirmation_sent_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks() as known_work:
        known = client.post("/resend/", {"email": "reader@example.org", "newsletter": "garden"})
    with django_capture_on_commit_callbacks() as unknown_work:
        unknown = client.post("/resend/", {"email": "nobody@example.org", "newsletter": "garden"})
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    assert len(known_work) == len(unknown_work) == 1  # the request only queues the resend
    with django_capture_on_commit_callbacks() as mails:
        run_queued(known_work)
    with django_capture_on_commit_callbacks() as no_mails:
        run_queued(unknown_work)
    assert (len(mails), no_mails) == (1, [])
    subscription.refresh_from_db()
    assert subscription.confirmation_sent_at > timezone.now() - timedelta(minutes=1)


def test_a_confirmed_address_gets_nothing(
    client, newsletter, make_subscription, django_capture_on_commit_callbacks
):
    make_subscription(status=Subscription.Status.CONFIRMED)
    with django_capture_on_commit_callbacks() as queued:
        client.post("/resend/", {"email": "reader@example.org", "newsletter": "garden"})
    with django_capture_on_commit_callbacks() as callbacks:
        run_queued(queued)
    assert callbacks == []
    assert not Event.objects.filter(kind=Event.Kind.CONFIRMATION_SENT).exists()


def test_the_form_preselects_the_newsletter(client, newsletter):
    html = client.get("/resend/?newsletter=garden").content.decode()
    assert '<option value="garden" selected>' in html


def test_the_newsletter_choice_asks_for_a_choice_instead_of_dashes(client):
    page = client.get(reverse("subscribers:resend")).content.decode()
    assert "Choose a newsletter" in page
    assert "---------" not in page
