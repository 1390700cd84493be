"""Provider webhooks through anymail's real URL: bounces and complaints reach the ledger."""

import base64
import json
import uuid
from pathlib import Path

import pytest

from newsletter.models import Delivery
from subscribers.models import Subscription, Suppression
from subscribers.suppression import email_hash
from tests.fakes.audience import make_issue, make_newsletter, subscribe

pytestmark = pytest.mark.django_db

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads"
URL = "/webhooks/anymail/postmark/tracking/"


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "hook:s3cret"}


@pytest.fixture
def delivery():
    newsletter = make_newsletter()
    subscribe(newsletter, "gone@example.com")
    issue = make_issue(newsletter)
    subscriber = Subscription.objects.get().subscriber
    return Delivery.objects.create(
        issue=issue, subscriber=subscriber, status="sent", provider_message_id="pm-1"
    )


def payload(name, **values):
    text = (PAYLOADS / name).read_text()
    for key, value in values.items():
        text = text.replace(key, str(value))
    return json.loads(text)


def post(client, data, auth="hook:s3cret", event_id=None):
    # A fresh event id per post unless a test repeats one: the dedupe cache outlives tests.
    data["ID"] = event_id if event_id is not None else uuid.uuid4().int % 10**15
    credentials = base64.b64encode(auth.encode()).decode()
    return client.post(
        URL,
        json.dumps(data),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {credentials}",
    )


def test_a_hard_bounce_marks_the_reader_bounced_and_suppressed(client, delivery):
    data = payload(
        "postmark-bounce.json",
        ISSUE=delivery.issue_id,
        DELIVERY=delivery.pk,
        EMAIL="gone@example.com",
    )
    assert post(client, data).status_code == 200
    assert Subscription.objects.get().status == Subscription.Status.BOUNCED
    assert Suppression.objects.filter(email_hash=email_hash("gone@example.com")).exists()
    delivery.refresh_from_db()
    assert delivery.status == "failed" and "bounced" in delivery.error


def test_a_complaint_found_by_provider_message_id(client, delivery):
    data = payload("postmark-complaint.json", MESSAGE_ID="pm-1", EMAIL="gone@example.com")
    assert post(client, data).status_code == 200
    assert Subscription.objects.get().status == Subscription.Status.COMPLAINED
    assert Delivery.objects.get().status == "sent"


def test_a_provider_side_unsubscribe_unsubscribes_the_reader(client, delivery):
    from anymail.signals import AnymailTrackingEvent

    from newsletter.receivers import record_tracking_event
    from subscribers.models import Event

    event = AnymailTrackingEvent(
        event_type="unsubscribed",
        message_id="pm-1",
        recipient="gone@example.com",
        event_id=str(uuid.uuid4()),
    )
    assert record_tracking_event(event=event, esp_name="SparkPost") == "unsubscribed"
    assert Subscription.objects.get().status == Subscription.Status.UNSUBSCRIBED
    assert Event.objects.filter(kind="unsubscribed", reason="one_click").count() == 1
    assert Delivery.objects.get().status == "sent"  # the mail itself did arrive


def test_the_same_event_twice_is_handled_once(client, delivery, monkeypatch):
    calls = []
    from subscribers import services

    real = services.record_bounce
    monkeypatch.setattr(services, "record_bounce", lambda **kw: calls.append(kw) or real(**kw))
    data = payload(
        "postmark-bounce.json",
        ISSUE=delivery.issue_id,
        DELIVERY=delivery.pk,
        EMAIL="gone@example.com",
    )
    event_id = uuid.uuid4().int % 10**15
    assert post(client, dict(data), event_id=event_id).status_code == 200
    assert post(client, dict(data), event_id=event_id).status_code == 200
    assert len(calls) == 1


def test_an_unknown_message_is_ignored_with_200(client, delivery):
    data = payload("postmark-complaint.json", MESSAGE_ID="not-ours", EMAIL="gone@example.com")
    assert post(client, data).status_code == 200
    assert Subscription.objects.get().status == Subscription.Status.CONFIRMED


def test_the_webhook_needs_the_shared_secret(client, delivery):
    data = payload("postmark-complaint.json", MESSAGE_ID="pm-1", EMAIL="gone@example.com")
    assert post(client, data, auth="hook:wrong").status_code in (400, 401, 403)
    assert Subscription.objects.get().status == Subscription.Status.CONFIRMED
