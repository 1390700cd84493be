"""Provider webhooks through the mounted URL: genuine events reach the ledger, forged ones
change nothing."""

import uuid

import pytest
from anymail.signals import AnymailTrackingEvent

from newsletter.models import Delivery
from newsletter.tracking.receivers import record_tracking_event
from subscribers.models import Event, Subscription, Suppression
from subscribers.suppression import email_hash
from tests.newsletter.tracking.webhook_helpers import (
    metadata_reference,
    payload,
    post,
    snapshot,
)

pytestmark = pytest.mark.django_db


def status_of(email):
    return Subscription.objects.get(subscriber__email=email).status


def test_a_hard_bounce_marks_the_reader_bounced_and_suppressed(client, delivery):
    assert post(client, payload("postmark-bounce.json", delivery)).status_code == 200
    assert status_of("gone@example.com") == Subscription.Status.BOUNCED
    assert Suppression.objects.filter(email_hash=email_hash("gone@example.com")).exists()
    delivery.refresh_from_db()
    assert delivery.status == "failed" and "bounced" in delivery.error


def test_a_complaint_marks_the_reader_complained(client, delivery):
    assert post(client, payload("postmark-complaint.json", delivery)).status_code == 200
    assert status_of("gone@example.com") == Subscription.Status.COMPLAINED
    assert Delivery.objects.get().status == "sent"


def test_a_provider_side_unsubscribe_unsubscribes_the_reader(delivery):
    event = AnymailTrackingEvent(
        event_type="unsubscribed",
        message_id=delivery.provider_message_id,
        metadata={"delivery": metadata_reference(delivery)},
        recipient="gone@example.com",
        event_id=str(uuid.uuid4()),
    )
    assert record_tracking_event(event=event, esp_name="SparkPost") == "unsubscribed"
    assert status_of("gone@example.com") == Subscription.Status.UNSUBSCRIBED
    assert Event.objects.filter(kind="unsubscribed", reason="one_click").count() == 1
    assert Delivery.objects.get().status == "sent"  # the mail itself did arrive


def test_the_same_event_twice_is_applied_once(client, delivery):
    data = payload("postmark-bounce.json", delivery)
    assert post(client, data).status_code == 200
    after_first = snapshot()
    assert post(client, data).status_code == 200
    assert snapshot() == after_first
    assert Event.objects.filter(kind="bounced").count() == 1


def test_a_second_bounce_with_a_new_event_id_changes_nothing_more(client, delivery):
    assert post(client, payload("postmark-bounce.json", delivery)).status_code == 200
    after_first = snapshot()
    data = payload("postmark-bounce.json", delivery)
    data["ID"] += 1
    assert post(client, data).status_code == 200
    assert snapshot() == after_first


def test_a_body_naming_another_address_affects_only_the_delivery_reader(client, delivery):
    data = payload("postmark-bounce.json", delivery, email="bystander@example.com")
    assert post(client, data).status_code == 200
    assert status_of("gone@example.com") == Subscription.Status.BOUNCED
    assert status_of("bystander@example.com") == Subscription.Status.CONFIRMED
    assert not Suppression.objects.filter(email_hash=email_hash("bystander@example.com")).exists()


def test_a_never_subscribed_address_in_the_body_is_not_suppressed(client, delivery):
    data = payload("postmark-complaint.json", delivery, email="stranger@example.net")
    assert post(client, data).status_code == 200
    assert not Suppression.objects.filter(email_hash=email_hash("stranger@example.net")).exists()


def test_a_guessed_sequential_metadata_id_changes_nothing(client, delivery):
    before = snapshot()
    for reference in (str(delivery.pk), f"{delivery.pk}.0", f"{delivery.pk}.{'0' * 24}"):
        data = payload("postmark-bounce.json", delivery, reference=reference)
        assert post(client, data).status_code == 200
    assert snapshot() == before


def test_a_guessed_id_without_the_message_id_changes_nothing(client, delivery):
    before = snapshot()
    data = payload(
        "postmark-complaint.json", delivery, reference=str(delivery.pk), message_id="guess"
    )
    assert post(client, data).status_code == 200
    assert snapshot() == before


def test_a_message_id_that_is_not_the_delivery_one_changes_nothing(client, delivery):
    before = snapshot()
    data = payload("postmark-bounce.json", delivery, message_id=f"pm-{uuid.uuid4()}")
    assert post(client, data).status_code == 200
    assert snapshot() == before


def test_a_reference_to_another_delivery_is_not_honoured_for_this_message(client, delivery):
    other = Delivery.objects.create(
        issue=delivery.issue,
        subscriber=Subscription.objects.get(subscriber__email="bystander@example.com").subscriber,
        status="sent",
        provider_message_id="pm-other",
    )
    before = snapshot()
    data = payload("postmark-bounce.json", delivery, reference=metadata_reference(other))
    assert post(client, data).status_code == 200
    assert snapshot() == before


def test_the_metadata_reference_is_not_the_bare_delivery_id(delivery):
    reference = metadata_reference(delivery)
    assert reference != str(delivery.pk)
    assert len(reference) >= len(str(delivery.pk)) + 16
