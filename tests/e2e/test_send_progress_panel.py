"""The sending panel in the admin follows a send live, without the author reloading, and
Send now asks first, naming how many readers the send reaches."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from newsletter.models import Issue, Newsletter
from subscribers.models import Subscriber, Subscription
from tests.conftest import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def make_readers(newsletter, *names, status=Subscription.Status.CONFIRMED):
    for name in names:
        reader = Subscriber.objects.create(email=f"{name}@example.org", name=name.title())
        Subscription.objects.create(
            subscriber=reader,
            newsletter=newsletter,
            status=status,
            source=Subscription.Source.FORM,
            confirmed_at=timezone.now(),
        )


def log_in(page, url):
    page.goto(url)
    page.locator("#id_username").fill("author")
    page.locator("#id_password").fill("pass-phrase-1")
    page.locator("input[type=submit]").click()


def test_send_now_asks_with_the_reader_count_and_the_page_follows_the_send(
    fresh_app_server, start_worker, inbox, open_page
):
    newsletter = Newsletter.objects.create(
        name="Garden Notes", slug="garden", from_name="Garden Notes", from_email="n@example.org"
    )
    make_readers(newsletter, "ada", "ben")
    make_readers(newsletter, "cem", status=Subscription.Status.PENDING)
    issue = Issue.objects.create(newsletter=newsletter, subject="Hello", slug="hello")
    get_user_model().objects.create_superuser("author", "author@example.org", "pass-phrase-1")

    page = open_page()
    log_in(page, f"{fresh_app_server.url}/admin/newsletter/issue/{issue.pk}/change/")
    page.get_by_role("button", name="Send now to all readers").click()
    expect(page.locator("#rb-send-confirm")).to_contain_text(
        "Send “Hello” to 2 readers of Garden Notes?"
    )
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.DRAFT  # nothing yet
    page.get_by_role("button", name="Yes, send it now").click()
    expect(page.locator(".messagelist")).to_contain_text("Sending starts in a moment")
    status = page.locator("[data-sending-field=status]")
    recipients = page.locator("[data-sending-field=recipients]")
    expect(status).to_have_text("Scheduled")
    expect(recipients).to_have_text("0")
    expect(page.get_by_role("button", name="Cancel the send")).to_be_visible()
    page.evaluate("window.rbSamePage = true")  # gone if the page reloads

    start_worker(**fresh_app_server.env)
    expect(status).to_have_text("Sent", timeout=60_000)
    expect(recipients).to_have_text("2")
    expect(page.locator("#rb-send-progress [data-field=sent]")).to_have_text("2")
    expect(page.get_by_role("button", name="Send now to all readers")).to_have_count(0)
    expect(page.get_by_role("button", name="Cancel the send")).to_have_count(0)
    assert page.evaluate("window.rbSamePage") is True
    assert page.console_errors == []


def test_the_confirmation_works_without_javascript(fresh_app_server, open_page):
    newsletter = Newsletter.objects.create(
        name="Garden Notes", slug="garden", from_name="Garden Notes", from_email="n@example.org"
    )
    make_readers(newsletter, "ada")
    issue = Issue.objects.create(newsletter=newsletter, subject="Hello", slug="hello")
    get_user_model().objects.create_superuser("author", "author@example.org", "pass-phrase-1")

    page = open_page(javascript=False)
    log_in(page, f"{fresh_app_server.url}/admin/newsletter/issue/{issue.pk}/change/")
    page.locator("#rb-schedule-at").fill("2999-06-01T09:30")
    expect(page.locator("label[for=rb-schedule-at]")).to_contain_text("Europe/Berlin")
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page.locator("#rb-send-confirm")).to_contain_text(
        "Send “Hello” to 1 reader of Garden Notes at 2999-06-01 09:30 CEST (Europe/Berlin)?"
    )
    page.get_by_role("button", name="Yes, schedule it").click()
    expect(page.locator(".messagelist")).to_contain_text("Scheduled for 2999-06-01 09:30 CEST")
    expect(page.locator("[data-sending-field=scheduled_at]")).to_contain_text("Europe/Berlin")
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.SCHEDULED


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
    page.get_by_role("button", name="Yes, send it now").click()
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
    page.get_by_role("button", name="Yes, send it now").click()
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
