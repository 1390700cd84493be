"""Builders for the tests and benchmarks: newsletters, issues, readers, statistics, signups.

Plain functions with keyword overrides: every test states the fields it asserts on, and
the defaults are what a test that does not care about them gets.
"""

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from newsletter.models import Delivery, Issue, Newsletter
from subscribers.models import Event, Subscriber, Subscription
from subscribers.tokens import form_started_stamp

# --- newsletters and issues ------------------------------------------------------------


def newsletter_fields(**overrides):
    """The fields of the usual test newsletter, also usable as admin form data."""
    fields = {
        "name": "Weekly Bits",
        "slug": "weekly",
        "description": "Short notes on the week.",
        "from_name": "The Weekly",
        "from_email": "news@example.org",
        "reply_to": "editor@example.org",
        "footer": "Example GmbH\nMain Street 1, 10115 Berlin",
    }
    return {**fields, **overrides}


def build_newsletter(**overrides):
    """An unsaved newsletter (for rendering tests that need no database)."""
    return Newsletter(**newsletter_fields(**overrides))


def make_newsletter(**overrides):
    """A saved newsletter with the usual fields, `overrides` replacing some of them."""
    return Newsletter.objects.create(**newsletter_fields(**overrides))


def build_issue(newsletter=None, **overrides):
    """An unsaved issue with the archive's plain content."""
    fields = {
        "subject": "First issue",
        "preview_text": "What happened this week",
        "slug": "first-issue",
        "body_markdown": 'Hello {{ name | default: "there" }}!\n\nA [link](https://example.com/).',
    }
    return Issue(newsletter=newsletter or build_newsletter(), **{**fields, **overrides})


def make_issue(newsletter, sent=True, **overrides):
    """An issue as the archive shows it: sent (now, unless `sent_at` is given) or a draft."""
    issue = build_issue(newsletter, **overrides)
    if sent:
        issue.status = Issue.Status.SENT
        issue.sent_at = overrides.get("sent_at") or timezone.now()
    issue.save()
    return issue


def make_draft(newsletter, slug="first", **fields):
    """A draft ready to send; its subject and body greet each reader by name and city."""
    defaults = {
        "subject": 'Hello {{ name | default: "reader" }}',
        "body_markdown": 'Dear {{ name | default: "reader" }},\n\nGrüße from the Weekly.\n\n'
        'Your city: {{ custom.city | default: "unknown" }}.',
    }
    return Issue.objects.create(newsletter=newsletter, slug=slug, **{**defaults, **fields})


# --- readers ---------------------------------------------------------------------------


def subscribe(
    newsletter,
    email,
    *,
    name="",
    status="confirmed",
    custom_fields=None,
    source=Subscription.Source.ADMIN,
    **fields,
):
    """A subscription of `email` (an existing subscriber or a new one) to `newsletter`."""
    subscriber, _ = Subscriber.objects.get_or_create(
        email=email, defaults={"name": name, "custom_fields": custom_fields or {}}
    )
    return Subscription.objects.create(
        subscriber=subscriber, newsletter=newsletter, status=status, source=source, **fields
    )


def make_reader(email, newsletter=None, status=Subscription.Status.CONFIRMED):
    """A new subscriber, signed up through the form to `newsletter` if one is given."""
    if newsletter is None:
        return Subscriber.objects.create(email=email)
    return subscribe(newsletter, email, status=status, source=Subscription.Source.FORM).subscriber


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


# --- signups through the public form ---------------------------------------------------


def stamp(seconds_ago):
    """A signup-form time stamp as if the form had been shown `seconds_ago`."""
    return form_started_stamp(now=time.time() - seconds_ago)


def signup_data(email="reader@example.org", **extra):
    """What the signup form posts, filled in by a person (not too fast, honeypot empty)."""
    return {
        "email": email,
        "name": "",
        "consent": "on",
        "website": "",
        "started": stamp(30),
        **extra,
    }


# --- statistics: events at known times, sends with deliveries --------------------------

BERLIN = ZoneInfo("Europe/Berlin")  # the site's TIME_ZONE in the settings
# A Wednesday in winter: the current week starts on Monday 12 January 2026.
NOW = datetime(2026, 1, 14, 12, 0, tzinfo=BERLIN)


def berlin(*args):
    """A datetime in the site's time zone, as the statistics count weeks."""
    return datetime(*args, tzinfo=BERLIN)


def event(newsletter, kind, at, reason="", subscriber=None, **data):
    """One entry of the event log at a chosen time (the statistics are built from it)."""
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


def life_events(newsletter, subscribers, start):
    """Each reader joins 7 hours after the last; every 5th leaves, every 7th bounces."""
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
    return events


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
    Event.objects.bulk_create(life_events(newsletter, subscribers, start))
    for number in range(issues):
        sent_at = start + timedelta(weeks=2 * number + 1)
        outcomes = [
            (s, "sent" if index % 9 else "failed", sent_at if index % 9 else None)
            for index, s in enumerate(subscribers)
        ]
        make_send(newsletter, f"Issue {number} of {newsletter.slug}", sent_at, outcomes)
    return subscribers
