from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from subscribers.models import Event, Subscriber, Subscription
from subscribers.tasks import purge_pending_task

pytestmark = pytest.mark.django_db


def old(days):
    return timezone.now() - timedelta(days=days)


def test_it_purges_only_pending_subscriptions_past_their_time(
    newsletter, other_newsletter, make_subscription
):
    limit = settings.PENDING_PURGE_DAYS
    stale = make_subscription("stale@example.org", subscribed_at=old(limit + 1))
    Event.objects.create(subscriber=stale.subscriber, kind=Event.Kind.SUBSCRIBED)
    fresh = make_subscription("fresh@example.org", subscribed_at=old(limit - 1))
    confirmed = make_subscription(
        "old-reader@example.org", status=Subscription.Status.CONFIRMED, subscribed_at=old(400)
    )
    # A reader of one newsletter who never confirmed a second one keeps the first.
    make_subscription("both@example.org", status=Subscription.Status.CONFIRMED)
    second = make_subscription(
        "both@example.org", to=other_newsletter, subscribed_at=old(limit + 5)
    )

    assert purge_pending_task() == 2

    assert not Subscriber.objects.filter(email="stale@example.org").exists()
    assert not Event.objects.filter(kind=Event.Kind.SUBSCRIBED).exists()  # personal data gone
    assert Subscription.objects.filter(pk__in=[fresh.pk, confirmed.pk]).count() == 2
    assert not Subscription.objects.filter(pk=second.pk).exists()
    expired = Event.objects.get(reason=Event.Reason.EXPIRED)
    assert expired.subscriber.email == "both@example.org"
    assert expired.newsletter == other_newsletter


def test_it_is_on_the_beat_schedule_under_its_name():
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert purge_pending_task.name == "subscribers.purge_pending"
    assert purge_pending_task.name in names


def test_purging_twice_changes_nothing_more(make_subscription):
    make_subscription(subscribed_at=old(settings.PENDING_PURGE_DAYS + 1))
    assert purge_pending_task() == 1
    assert purge_pending_task() == 0
