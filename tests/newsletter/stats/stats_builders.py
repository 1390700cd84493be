"""Builders for the statistics tests: readers, events at known times, sends with deliveries."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from newsletter.models import Delivery, Issue
from subscribers.models import Event, Subscriber, Subscription
from tests.newsletter.issue_builders import make_newsletter

BERLIN = ZoneInfo("Europe/Berlin")  # the site's TIME_ZONE in the settings
# A Wednesday in winter: the current week starts on Monday 12 January 2026.
NOW = datetime(2026, 1, 14, 12, 0, tzinfo=BERLIN)


def berlin(*args):
    return datetime(*args, tzinfo=BERLIN)


def make_reader(email, newsletter=None, status=Subscription.Status.CONFIRMED):
    subscriber = Subscriber.objects.create(email=email)
    if newsletter is not None:
        Subscription.objects.create(
            subscriber=subscriber, newsletter=newsletter, status=status, source="form"
        )
    return subscriber


def event(newsletter, kind, at, reason="", subscriber=None, **data):
    return Event.objects.create(
        newsletter=newsletter, subscriber=subscriber, kind=kind, reason=reason,
        created_at=at, data=data,
    )  # fmt: skip


def make_send(newsletter, subject, started_at, outcomes):
    """A sent issue with one delivery per (subscriber, status, sent_at) in `outcomes`."""
    issue = Issue.objects.create(
        newsletter=newsletter,
        subject=subject,
        slug=subject.lower().replace(" ", "-"),
        status=Issue.Status.SENT,
        send_started_at=started_at,
        sent_at=started_at,
    )
    Delivery.objects.bulk_create(
        Delivery(issue=issue, subscriber=subscriber, status=status, sent_at=sent_at)
        for subscriber, status, sent_at in outcomes
    )
    return issue


def populate(newsletter, readers, issues, start=None):
    """A newsletter's life at scale: readers joining and leaving, sends with bounces."""
    start = start or NOW - timedelta(weeks=20)
    subscribers = Subscriber.objects.bulk_create(
        Subscriber(email=f"r{index}-{newsletter.slug}@example.org") for index in range(readers)
    )
    Subscription.objects.bulk_create(
        Subscription(subscriber=s, newsletter=newsletter, status="confirmed", source="form")
        for s in subscribers
    )
    events = []
    for index, subscriber in enumerate(subscribers):
        at = start + timedelta(hours=7 * index)
        events.append(Event(newsletter=newsletter, subscriber=subscriber, kind="subscribed",
                            created_at=at))  # fmt: skip
        events.append(Event(newsletter=newsletter, subscriber=subscriber, kind="confirmed",
                            created_at=at + timedelta(hours=1)))  # fmt: skip
        if index % 5 == 0:
            events.append(Event(newsletter=newsletter, subscriber=subscriber, kind="unsubscribed",
                                reason="link", created_at=at + timedelta(days=9)))  # fmt: skip
        if index % 7 == 0:
            events.append(Event(newsletter=newsletter, subscriber=subscriber, kind="bounced",
                                reason="bounce", created_at=at + timedelta(days=30)))  # fmt: skip
    Event.objects.bulk_create(events)
    for number in range(issues):
        sent_at = start + timedelta(weeks=2 * number + 1)
        outcomes = [
            (s, "sent" if index % 9 else "failed", sent_at if index % 9 else None)
            for index, s in enumerate(subscribers)
        ]
        make_send(newsletter, f"Issue {number} of {newsletter.slug}", sent_at, outcomes)
    return subscribers


def a_newsletter(**overrides):
    return make_newsletter(**overrides)
