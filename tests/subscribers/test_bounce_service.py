import pytest

from subscribers import services, suppression
from subscribers.models import Event, Subscription, Suppression

pytestmark = pytest.mark.django_db


def test_a_permanent_bounce_stops_mail_and_suppresses_the_address(newsletter, make_subscription):
    subscription = make_subscription(status=Subscription.Status.CONFIRMED)
    suppression.record_bounce(email="READER@example.org")
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.BOUNCED
    assert Suppression.objects.get().reason == Suppression.Reason.BOUNCED
    assert Event.objects.get(kind=Event.Kind.BOUNCED).reason == Event.Reason.BOUNCE
    assert suppression.is_suppressed("reader@example.org")


def test_a_transient_bounce_is_only_noted(newsletter, make_subscription):
    subscription = make_subscription(status=Subscription.Status.CONFIRMED)
    suppression.record_bounce(email="reader@example.org", permanent=False)
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CONFIRMED
    assert not Suppression.objects.exists()
    assert Event.objects.get(kind=Event.Kind.BOUNCED).data == {"permanent": False}


def test_a_complaint_marks_every_subscription_and_is_idempotent(
    newsletter, other_newsletter, make_subscription
):
    make_subscription(status=Subscription.Status.CONFIRMED)
    make_subscription(status=Subscription.Status.CONFIRMED, to=other_newsletter)
    suppression.record_complaint(email="reader@example.org")
    suppression.record_complaint(email="reader@example.org")
    assert set(Subscription.objects.values_list("status", flat=True)) == {"complained"}
    assert Event.objects.filter(kind=Event.Kind.COMPLAINED).count() == 2
    assert Suppression.objects.count() == 1


def test_unsubscribe_records_the_reason_once(make_subscription):
    subscription = make_subscription(status=Subscription.Status.CONFIRMED)
    assert services.unsubscribe(subscription=subscription, reason=Event.Reason.ADMIN) is True
    assert services.unsubscribe(subscription=subscription, reason=Event.Reason.ADMIN) is False
    assert subscription.status == Subscription.Status.UNSUBSCRIBED
    assert Event.objects.get(kind=Event.Kind.UNSUBSCRIBED).reason == Event.Reason.ADMIN


def test_events_are_append_only(make_subscription):
    event = Event.objects.create(kind=Event.Kind.UPDATED)
    event.data = {"changed": True}
    with pytest.raises(ValueError, match="append-only"):
        event.save()
