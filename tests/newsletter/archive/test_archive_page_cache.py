"""Whole archive pages come from the cache, filled per request with a fresh CSRF token and
a fresh signup time stamp; publishing an issue changes the cached page."""

import time

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from newsletter.models import Issue
from subscribers.tokens import seconds_since_form_started
from tests.factories import make_issue
from tests.subscribers.conftest import queued_signups

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()  # so the first request of each test is a miss, whatever ran before


@pytest.fixture(autouse=True)
def in_german(newsletter):
    """The archive speaks the newsletter's language: German here, whatever the browser."""
    newsletter.language = "de"
    newsletter.save()


def field_value(page, name):
    return page.split(f'name="{name}" value="')[1].split('"')[0]


def signup(client, page, email):
    return client.post(
        reverse("subscribers:subscribe", args=["weekly"]),
        {"email": email, "consent": "on", "website": "",
         "started": field_value(page, "started"),
         "csrfmiddlewaretoken": field_value(page, "csrfmiddlewaretoken")},
    )  # fmt: skip


@pytest.mark.parametrize("path", ["/weekly/", "/weekly/first-issue/"])
def test_a_cached_page_renders_no_template_yet_its_form_is_accepted(
    path, newsletter, settings, django_capture_on_commit_callbacks
):
    settings.SIGNUP_MIN_FILL_SECONDS = 0
    make_issue(newsletter)
    first = Client(enforce_csrf_checks=True).get(path)
    reader = Client(enforce_csrf_checks=True)
    time.sleep(0.01)  # stamps have millisecond precision; this one must be new

    second = reader.get(path)

    assert first.templates and not second.templates  # the test client records renders
    page = second.content.decode()
    token, started = field_value(page, "csrfmiddlewaretoken"), field_value(page, "started")
    assert token != field_value(first.content.decode(), "csrfmiddlewaretoken")
    assert len(token) == 64 and "csrfmiddlewaretoken" not in second.cookies
    assert started != field_value(first.content.decode(), "started")
    assert -1 < seconds_since_form_started(started) < 60  # signed, current, not the sentinel
    assert second.cookies["csrftoken"].value  # the cookie that goes with the token

    with django_capture_on_commit_callbacks() as callbacks:
        response = signup(reader, page, "reader@example.org")

    assert response.status_code == 302, response.content.decode()[:500]
    assert [signup["email"] for signup in queued_signups(callbacks)] == ["reader@example.org"]


def test_a_cached_page_with_a_forged_token_is_still_refused(
    newsletter, settings, django_capture_on_commit_callbacks
):
    settings.SIGNUP_MIN_FILL_SECONDS = 0
    Client().get("/weekly/")
    reader = Client(enforce_csrf_checks=True)
    page = reader.get("/weekly/").content.decode()
    forged = page.replace(field_value(page, "csrfmiddlewaretoken"), "x" * 64)

    with django_capture_on_commit_callbacks() as callbacks:
        response = signup(reader, forged, "reader@example.org")

    assert response.status_code == 403
    assert callbacks == []


def test_the_minimum_fill_time_still_catches_a_fast_bot_on_a_cached_page(
    newsletter, settings, django_capture_on_commit_callbacks
):
    Client().get("/weekly/")
    settings.SIGNUP_MIN_FILL_SECONDS = 30  # the stamp of this request, not of the render
    reader = Client(enforce_csrf_checks=True)
    page = reader.get("/weekly/").content.decode()

    with django_capture_on_commit_callbacks() as callbacks:
        response = signup(reader, page, "bot@example.org")

    assert response.status_code == 200  # the form again, "that was very quick"
    assert callbacks == []


def test_a_cache_hit_keeps_the_http_headers(client, newsletter):
    make_issue(newsletter)
    client.get("/weekly/first-issue/")

    response = Client().get("/weekly/first-issue/")

    assert not response.templates
    assert response["ETag"] and response["Last-Modified"]
    assert response["Content-Language"] == "de"
    assert response["Content-Security-Policy"]
    vary = response["Vary"]
    assert "Cookie" in vary and "Accept-Language" in vary
    assert '<html lang="de">' in response.content.decode()
    again = Client().get("/weekly/first-issue/", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_the_cached_index_sets_no_csrf_cookie(client, newsletter):
    client.get("/")

    response = Client().get("/")

    assert not response.templates
    assert "Weekly Bits" in response.content.decode()
    assert "csrftoken" not in response.cookies


def test_the_index_is_cached_per_language(newsletter):
    english = Client().get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    german = Client().get("/", HTTP_ACCEPT_LANGUAGE="de")

    assert german.templates  # not the English page from the cache
    assert '<html lang="de">' in german.content.decode() and '<html lang="en">' in english


def test_publishing_an_issue_changes_the_cached_pages(newsletter):
    make_issue(newsletter, slug="old", subject="Old news")
    draft = make_issue(newsletter, sent=False, slug="fresh", subject="Fresh news")
    Client().get("/weekly/")
    assert not Client().get("/weekly/").templates  # cached now
    assert Client().get("/weekly/fresh/").status_code == 404

    # The sending engine marks issues sent with a bulk UPDATE: no save(), no signals.
    Issue.objects.filter(pk=draft.pk).update(status=Issue.Status.SENT, sent_at=timezone.now())
    landing = Client().get("/weekly/")

    assert landing.templates  # rendered anew
    assert "Fresh news" in landing.content.decode() and "Old news" in landing.content.decode()
    assert "Fresh news" in Client().get("/weekly/fresh/").content.decode()
    assert not Client().get("/weekly/").templates  # and cached again


def test_an_issue_body_cannot_smuggle_in_a_sentinel(newsletter):
    make_issue(newsletter, body_markdown="csrf and started are just words here.")
    Client().get("/weekly/first-issue/")

    page = Client().get("/weekly/first-issue/").content.decode()

    assert "csrf and started are just words here." in page


def test_the_index_etag_differs_per_language(client):
    german = client.get("/", HTTP_ACCEPT_LANGUAGE="de")
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en", HTTP_IF_NONE_MATCH=german["ETag"])
    assert english.status_code == 200  # not the German page's 304
    assert english["ETag"] != german["ETag"]
    assert english["Content-Language"] == "en"
