"""Bulk builders for a newsletter, an issue and its readers (tests and benchmarks)."""

from django.utils import timezone

from newsletter.models import Issue, Newsletter
from subscribers.models import Subscriber, Subscription


def make_newsletter(slug="weekly", **fields):
    defaults = {
        "name": "The Weekly",
        "from_name": "The Weekly",
        "from_email": "news@example.org",
        "reply_to": "editor@example.org",
    }
    return Newsletter.objects.create(slug=slug, **{**defaults, **fields})


def make_issue(newsletter, slug="first", **fields):
    defaults = {
        "subject": 'Hello {{ name | default: "reader" }}',
        "body_markdown": 'Dear {{ name | default: "reader" }},\n\nGrüße from the Weekly.\n\n'
        'Your city: {{ custom.city | default: "unknown" }}.',
    }
    return Issue.objects.create(newsletter=newsletter, slug=slug, **{**defaults, **fields})


def make_readers(newsletter, count, *, domain="example.com", status="confirmed", start=0):
    """`count` subscribers with one subscription each, in bulk; returns their addresses."""
    now = timezone.now()
    subscribers = Subscriber.objects.bulk_create(
        [
            Subscriber(email=f"reader{n}@{domain}", name=f"Reader {n}", created_at=now)
            for n in range(start, start + count)
        ],
        batch_size=1000,
    )
    Subscription.objects.bulk_create(
        [
            Subscription(
                subscriber=subscriber,
                newsletter=newsletter,
                status=status,
                source=Subscription.Source.IMPORT,
                confirmed_at=now if status == "confirmed" else None,
            )
            for subscriber in subscribers
        ],
        batch_size=1000,
    )
    return [subscriber.email for subscriber in subscribers]


def subscribe(newsletter, email, *, name="", status="confirmed", custom_fields=None):
    subscriber, _ = Subscriber.objects.get_or_create(
        email=email, defaults={"name": name, "custom_fields": custom_fields or {}}
    )
    return Subscription.objects.create(
        subscriber=subscriber,
        newsletter=newsletter,
        status=status,
        source=Subscription.Source.ADMIN,
    )
