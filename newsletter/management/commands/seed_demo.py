"""`make run`'s demo: a newsletter with a published sample issue, a few readers and their
history, so /demo/ and its statistics show something on the first look. Idempotent: the
sample issue and readers are added only to a demo newsletter that has none yet."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from config.site import absolute_reverse, absolute_url
from newsletter.models import Delivery, Issue, Newsletter
from subscribers.models import Event, Subscriber, Subscription

SAMPLE_SLUG = "welcome-to-rundbrief"
SAMPLE_SUBJECT = "Welcome to Rundbrief · Willkommen bei Rundbrief"
# Shows what the editor's Markdown does, in both languages the site speaks.
SAMPLE_BODY = """\
Hello {{ name | default: "there" }},

this is a **sample issue** of the demo newsletter. Write your own in the admin,
preview it at desktop and phone width, send a test to yourself, then send it to
your readers.

## What Markdown does here

- **bold**, *italic* and `code`
- [links](https://www.markdownguide.org/basic-syntax/), lists and headings
- placeholders such as `{{ name }}` fill in each reader's name

> A quote stands out like this.

## Auf Deutsch

Hallo {{ name | default: "zusammen" }}, dies ist eine **Beispielausgabe**. Umlaute,
ß und „Anführungszeichen“ kommen so an, wie Sie sie schreiben.
"""
# name, e-mail, days ago they joined, whether they left again (shown in the statistics)
SAMPLE_READERS = (
    ("Ada Lovelace", "ada@example.org", 40, False),
    ("Grace Hopper", "grace@example.org", 30, False),
    ("Jürgen Müller", "juergen@example.org", 20, False),
    ("Zoë Martin", "zoe@example.org", 12, False),
    ("Ben Brook", "ben@example.org", 25, True),
)
SENT_DAYS_AGO = 7


class Command(BaseCommand):
    help = (
        "Development only (make run): create a demo newsletter with a sample issue and "
        "readers, and an admin login "
        "(idempotent); prints the login."
    )

    def handle(self, *args, **options):
        # It makes a superuser and prints its password: never on a production site.
        if not (settings.RUNDBRIEF_ENV == "development" or settings.DEBUG):
            raise CommandError(
                "seed_demo is for development only (make run sets RUNDBRIEF_ENV=development); "
                f"this is RUNDBRIEF_ENV={settings.RUNDBRIEF_ENV}. On a production site create "
                "your admin with: python manage.py createsuperuser"
            )
        newsletter, created = Newsletter.objects.get_or_create(
            slug="demo",
            defaults={
                "name": "Rundbrief Demo",
                "description": "A demo newsletter to try Rundbrief with.",
                "from_name": "Rundbrief Demo",
                "from_email": f"demo@{settings.MAIL_DOMAIN}",
            },
        )
        if created:
            self.stdout.write(
                f"Created the demo newsletter at {absolute_url(newsletter.get_absolute_url())}"
            )
        with transaction.atomic():
            if not newsletter.subscriptions.exists():
                seed_readers(newsletter, timezone.now())
            if not newsletter.issues.exists():
                seed_issue(newsletter, timezone.now())
        self._ensure_admin()

    def _ensure_admin(self):
        users = get_user_model().objects
        password = secrets.token_urlsafe(12)
        login = f"Admin login: {absolute_reverse('admin:index')}  user: admin"
        user = users.filter(username="admin").first()
        if user is None:
            users.create_superuser("admin", f"admin@{settings.MAIL_DOMAIN}", password)
        elif not user.has_usable_password():
            user.set_password(password)
            user.save(update_fields=["password"])
        else:
            self.stdout.write(
                f"{login}  (password unchanged; set a new one with `make admin-password`)"
            )
            return
        self.stdout.write(self.style.SUCCESS(f"{login}  password: {password}"))


def seed_readers(newsletter, now):
    """Readers with the history a real signup leaves: signed up, confirmed, maybe left."""
    for name, email, days_ago, left in SAMPLE_READERS:
        joined = now - timedelta(days=days_ago)
        subscriber, _created = Subscriber.objects.get_or_create(
            email=email, defaults={"name": name}
        )
        Subscription.objects.create(
            subscriber=subscriber,
            newsletter=newsletter,
            status=Subscription.Status.UNSUBSCRIBED if left else Subscription.Status.CONFIRMED,
            source=Subscription.Source.FORM,
            subscribed_at=joined,
            confirmed_at=joined + timedelta(minutes=5),
            unsubscribed_at=now - timedelta(days=2) if left else None,
        )
        history = [
            (Event.Kind.SUBSCRIBED, "", joined),
            (Event.Kind.CONFIRMED, "", joined + timedelta(minutes=5)),
        ]
        if left:
            history.append((Event.Kind.UNSUBSCRIBED, Event.Reason.LINK, now - timedelta(days=2)))
        Event.objects.bulk_create(
            Event(newsletter=newsletter, subscriber=subscriber, kind=kind, reason=reason,
                  created_at=at)
            for kind, reason, at in history
        )  # fmt: skip


def seed_issue(newsletter, now):
    """The sample issue, published in the archive, as sent to the readers of the time."""
    sent_at = now - timedelta(days=SENT_DAYS_AGO)
    issue = Issue.objects.create(
        newsletter=newsletter,
        slug=SAMPLE_SLUG,
        subject=SAMPLE_SUBJECT,
        preview_text="What an issue can look like · So kann eine Ausgabe aussehen",
        body_markdown=SAMPLE_BODY,
        status=Issue.Status.SENT,
        send_started_at=sent_at,
        sent_at=sent_at + timedelta(seconds=3),
    )
    readers = Subscription.objects.filter(
        newsletter=newsletter, confirmed_at__lt=sent_at
    ).values_list("subscriber_id", flat=True)
    Delivery.objects.bulk_create(
        (
            Delivery(issue=issue, subscriber_id=reader, status=Delivery.Status.SENT,
                     attempts=1, sent_at=sent_at, provider="demo")
            for reader in readers
        ),
        ignore_conflicts=True,
    )  # fmt: skip
    Issue.objects.filter(pk=issue.pk).update(recipient_count=len(readers))
