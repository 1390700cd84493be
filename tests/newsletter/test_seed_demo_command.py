"""`seed_demo` (run by every `make run`): the demo has a published sample issue and a few
readers, so /demo/ and its statistics are not empty on the first look; twice is once."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from newsletter.models import Delivery, Issue, Newsletter
from newsletter.stats import newsletter_stats
from subscribers.models import Event, Subscription

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def development(settings):
    settings.RUNDBRIEF_ENV = "development"  # seed_demo runs in make run's setup only


def seed():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_the_demo_archive_shows_a_published_sample_issue():
    seed()
    issue = Issue.objects.get(newsletter__slug="demo")
    assert issue.status == Issue.Status.SENT and issue.show_in_archive
    landing = Client().get("/demo/").content.decode()
    assert "Welcome to Rundbrief" in landing
    page = Client().get(issue.get_absolute_url())
    html = page.content.decode()
    assert page.status_code == 200
    assert "<strong>sample issue</strong>" in html and "<blockquote>" in html
    assert "Hello there," in html and "Hallo zusammen" in html  # no reader's data in public
    assert "{{" not in html


def test_the_demo_statistics_have_readers_and_a_send():
    seed()
    newsletter = Newsletter.objects.get(slug="demo")
    stats = newsletter_stats(newsletter)
    assert not stats.is_empty
    assert stats.confirmed == 4 and stats.gained == 5 and stats.lost == 1
    [sent] = stats.issues
    assert (sent.recipients, sent.sent) == (5, 5)
    admin = get_user_model().objects.get(username="admin")
    client = Client()
    client.force_login(admin)
    url = reverse("admin:newsletter_newsletter_statistics", args=[newsletter.pk])
    assert "Welcome to Rundbrief" in client.get(url).content.decode()


def test_seeding_twice_adds_nothing_and_keeps_the_password():
    seed()
    counts = [m.objects.count() for m in (Issue, Subscription, Event, Delivery)]
    again = seed()
    assert [m.objects.count() for m in (Issue, Subscription, Event, Delivery)] == counts
    assert "password unchanged" in again and "`make admin-password`" in again


def test_a_demo_the_author_has_filled_gets_no_sample_content():
    seed()
    newsletter = Newsletter.objects.get(slug="demo")
    Issue.objects.filter(newsletter=newsletter).delete()  # deliveries go with it
    Issue.objects.create(newsletter=newsletter, subject="Mine", slug="mine")
    seed()
    assert list(newsletter.issues.values_list("slug", flat=True)) == ["mine"]
