"""The sending panel in the admin follows a send live, without the author reloading."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from newsletter.models import Issue, Newsletter
from subscribers.models import Subscriber, Subscription
from tests.conftest import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_panel_counts_a_send_that_starts_after_the_page_loaded(
    fresh_app_server, start_worker, inbox, open_page
):
    newsletter = Newsletter.objects.create(
        name="Garden Notes", slug="garden", from_name="Garden Notes", from_email="n@example.org"
    )
    reader = Subscriber.objects.create(email="ada@example.org")
    Subscription.objects.create(
        subscriber=reader,
        newsletter=newsletter,
        status=Subscription.Status.CONFIRMED,
        source=Subscription.Source.FORM,
        confirmed_at=timezone.now(),
    )
    issue = Issue.objects.create(newsletter=newsletter, subject="Hello", slug="hello")
    get_user_model().objects.create_superuser("author", "author@example.org", "pass-phrase-1")

    page = open_page()
    page.goto(f"{fresh_app_server.url}/admin/newsletter/issue/{issue.pk}/change/")
    page.locator("#id_username").fill("author")
    page.locator("#id_password").fill("pass-phrase-1")
    page.locator("input[type=submit]").click()
    # No worker yet: the send is queued, as on a busy site where the queue is long.
    page.get_by_role("button", name="Send now to all readers").click()
    expect(page.locator(".messagelist")).to_contain_text("Sending starts in a moment")

    start_worker(**fresh_app_server.env)
    wait_for(lambda: Issue.objects.get(pk=issue.pk).status == Issue.Status.SENT, timeout=60)
    expect(page.locator("#rb-send-progress [data-field=sent]")).to_have_text("1", timeout=10_000)


def test_the_panel_says_the_mail_server_is_not_answering_and_when_it_tries_again(
    fresh_app_server, start_worker, inbox, open_page
):
    newsletter = Newsletter.objects.create(
        name="Garden Notes", slug="garden", from_name="Garden Notes", from_email="n@example.org"
    )
    for name in ("ada", "ben", "cem"):
        reader = Subscriber.objects.create(email=f"{name}@example.org")
        Subscription.objects.create(
            subscriber=reader,
            newsletter=newsletter,
            status=Subscription.Status.CONFIRMED,
            source=Subscription.Source.FORM,
            confirmed_at=timezone.now(),
        )
        inbox.handler.reply[reader.email] = "451 4.3.0 Try again later"
    issue = Issue.objects.create(newsletter=newsletter, subject="Hello", slug="hello")
    get_user_model().objects.create_superuser("author", "author@example.org", "pass-phrase-1")
    start_worker(
        **fresh_app_server.env,
        SEND_BREAKER_THRESHOLD=2,
        SEND_BREAKER_COOLDOWN_SECONDS=120,
        SEND_RETRY_BASE_SECONDS=300,
    )

    page = open_page()
    page.goto(f"{fresh_app_server.url}/admin/newsletter/issue/{issue.pk}/change/")
    page.locator("#id_username").fill("author")
    page.locator("#id_password").fill("pass-phrase-1")
    page.locator("input[type=submit]").click()
    page.get_by_role("button", name="Send now to all readers").click()
    waiting = page.locator("#rb-send-progress [data-field=waiting]")
    expect(waiting.locator("[data-reason=breaker]")).to_contain_text(
        re.compile(r"The mail server is not answering; next try at \d\d:\d\d:\d\d \(in 1\d\d s\)")
    )
    expect(waiting.locator("[data-reason=retry]")).to_contain_text(
        re.compile(r"\d readers? waits? for another try after a temporary error")
    )
    expect(page.locator("#rb-send-progress [data-field=breaker]")).to_contain_text(
        "paused after errors, next try at"
    )
    inbox.handler.reply.clear()
