"""The public archive pages: content, metadata, privacy, query counts and 304s."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from newsletter.models import Issue
from newsletter.rendering import Recipient, render_issue
from subscribers.models import Subscription
from tests.factories import make_issue, make_newsletter
from tests.subscribers.conftest import run_queued_signups

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_german(newsletter):
    """The archive speaks the newsletter's language: German here, whatever the browser."""
    newsletter.language = "de"
    newsletter.save()


def make_issues(newsletter, count):
    start = timezone.now() - timedelta(days=count)
    return [
        make_issue(
            newsletter,
            slug=f"issue-{number}",
            subject=f"Issue {number}",
            sent_at=start + timedelta(days=number),
        )
        for number in range(count)
    ]


# --- landing page ------------------------------------------------------------------------
def test_the_landing_page_lists_sent_issues_newest_first(client, newsletter):
    make_issues(newsletter, 3)
    make_issue(newsletter, sent=False, slug="draft", subject="A secret draft")
    make_issue(newsletter, slug="hidden", subject="Hidden issue", show_in_archive=False)

    page = client.get("/weekly/").content.decode()

    assert page.index("Issue 2") < page.index("Issue 1") < page.index("Issue 0")
    assert "A secret draft" not in page and "Hidden issue" not in page
    assert 'href="/weekly/issue-1/"' in page


def test_the_landing_page_has_the_signup_form_posting_to_subscribe(client, newsletter):
    newsletter.consent_text = "Yes, send me the weekly bits."
    newsletter.save()

    page = client.get("/weekly/").content.decode()

    assert f'action="{reverse("subscribers:subscribe", args=["weekly"])}"' in page
    assert 'name="email"' in page and 'name="name"' in page
    assert 'name="consent"' in page and "Yes, send me the weekly bits." in page
    assert 'name="website"' in page  # the honeypot
    assert 'name="csrfmiddlewaretoken"' in page


def test_the_signup_from_the_landing_page_reaches_the_subscribe_view(
    client, newsletter, settings, django_capture_on_commit_callbacks
):
    settings.SIGNUP_MIN_FILL_SECONDS = 0
    page = client.get("/weekly/").content.decode()
    started = page.split('name="started" value="')[1].split('"')[0]
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            reverse("subscribers:subscribe", args=["weekly"]),
            {"email": "reader@example.org", "consent": "on", "started": started,
             "website": "", "csrfmiddlewaretoken": token},
        )  # fmt: skip

    assert response.status_code == 302, response.content.decode()[:500]
    run_queued_signups(callbacks)
    subscription = Subscription.objects.get(subscriber__email="reader@example.org")
    assert subscription.newsletter == newsletter


def test_the_landing_page_is_paginated(client, newsletter):
    make_issues(newsletter, 25)

    first = client.get("/weekly/").content.decode()
    second = client.get("/weekly/?page=2").content.decode()

    assert "Issue 24" in first and "Issue 5" in first and "Issue 4" not in first
    assert "Issue 4" in second and "Issue 0" in second and "Issue 24" not in second
    assert 'rel="next" href="?page=2"' in first
    assert client.get("/weekly/?page=3").status_code == 404
    assert client.get("/weekly/?page=abc").status_code == 404


def test_pages_carry_lang_canonical_and_open_graph(client, newsletter):
    make_issues(newsletter, 1)

    landing = client.get("/weekly/").content.decode()
    issue_page = client.get("/weekly/issue-0/").content.decode()

    assert '<html lang="de">' in landing and '<html lang="de">' in issue_page
    assert '<link rel="canonical" href="http://testserver/weekly/">' in landing
    assert '<link rel="canonical" href="http://testserver/weekly/issue-0/">' in issue_page
    assert '<meta property="og:type" content="article">' in issue_page
    assert '<meta property="og:title" content="Issue 0">' in issue_page
    assert '<meta property="og:locale" content="de_DE">' in issue_page
    assert '<meta name="twitter:card" content="summary">' in issue_page
    assert 'type="application/rss+xml"' in landing


def test_an_unknown_newsletter_is_a_404(client):
    assert client.get("/nothing-here/").status_code == 404


def test_a_private_archive_shows_the_signup_but_no_issues(client):
    private = make_newsletter(slug="private", archive_public=False)
    make_issue(private, subject="Members only")

    landing = client.get("/private/")

    assert landing.status_code == 200
    assert "Members only" not in landing.content.decode()
    assert client.get("/private/first-issue/").status_code == 404


# --- issue page --------------------------------------------------------------------------
def test_the_issue_page_shows_the_body_share_links_and_subscribe_box(client, newsletter):
    make_issue(newsletter, body_markdown="## Inside\n\nSome **news**.")

    page = client.get("/weekly/first-issue/").content.decode()

    assert "<h2>Inside</h2>" in page and "<strong>news</strong>" in page
    assert "https://www.linkedin.com/sharing/share-offsite/?url=http%3A%2F%2Ftestserver" in page
    assert "mailto:?subject=First%20issue" in page
    assert "<script" not in page  # share links are plain links
    assert reverse("subscribers:subscribe", args=["weekly"]) in page


def test_drafts_and_hidden_issues_are_not_found(client, newsletter):
    make_issue(newsletter, sent=False, slug="draft")
    make_issue(newsletter, slug="hidden", show_in_archive=False)

    assert client.get("/weekly/draft/").status_code == 404
    assert client.get("/weekly/hidden/").status_code == 404


def test_the_archive_never_shows_a_readers_data(client, newsletter):
    issue = make_issue(
        newsletter,
        subject="News for {{ name }}",
        preview_text="Hi {{ name }}",
        body_markdown='Dear {{ name | default: "reader" }} in {{ custom.city }}, '
        "[manage]({{ preferences_url }}) {{ email }}",
    )
    rendered = render_issue(issue)
    rendered.personalise(
        Recipient(
            email="eve@example.org",
            name="Eve Secret",
            custom_fields={"city": "Köln"},
            preferences_url="https://testserver/preferences/EVETOKEN/",
        )
    )

    page = client.get("/weekly/first-issue/").content.decode()
    feed = client.get("/weekly/feed/rss/").content.decode()

    for text in (page, feed):
        assert "Eve" not in text and "Köln" not in text and "EVETOKEN" not in text
        assert "eve@example.org" not in text
        assert "{{" not in text
    assert "Dear reader in ," in page
    assert 'href="http://testserver/weekly/"' in page  # the neutral preferences link


# --- index, robots -----------------------------------------------------------------------
def test_the_index_lists_public_newsletters_only(client, newsletter):
    make_newsletter(slug="private", name="Private Letter", archive_public=False)

    page = client.get("/").content.decode()

    assert "Weekly Bits" in page and 'href="/weekly/"' in page
    assert "Private Letter" not in page


def test_robots_txt_points_to_the_sitemap(client):
    response = client.get("/robots.txt")

    assert response["Content-Type"].startswith("text/plain")
    assert "Sitemap: http://testserver/sitemap.xml" in response.content.decode()
    assert "Disallow: /admin/" in response.content.decode()


# --- constant queries --------------------------------------------------------------------
@pytest.mark.parametrize("count", [5, 50])
def test_the_landing_page_needs_a_constant_number_of_queries(
    client, newsletter, count, django_assert_max_num_queries
):
    make_issues(newsletter, count)

    with django_assert_max_num_queries(3):
        response = client.get("/weekly/")

    assert response.status_code == 200
    assert response.content.decode().count('class="issue-link"') == min(count, 20)


@pytest.mark.parametrize("count", [5, 50])
def test_the_issue_page_needs_a_constant_number_of_queries(
    client, newsletter, count, django_assert_max_num_queries
):
    make_issues(newsletter, count)

    with django_assert_max_num_queries(1):
        response = client.get("/weekly/issue-3/")

    assert response.status_code == 200


@pytest.mark.parametrize("count", [5, 50])
def test_the_index_and_feeds_need_a_constant_number_of_queries(
    client, newsletter, count, django_assert_max_num_queries
):
    make_issues(newsletter, count)

    with django_assert_max_num_queries(1):
        assert client.get("/").status_code == 200
    with django_assert_max_num_queries(2):
        assert client.get("/weekly/feed/atom/").status_code == 200
    with django_assert_max_num_queries(4):  # per sitemap section: a count and a page
        assert client.get("/sitemap.xml").status_code == 200


def test_a_cached_landing_page_skips_the_issue_query(client, newsletter, django_assert_num_queries):
    make_issues(newsletter, 5)
    client.get("/weekly/")

    with django_assert_num_queries(2):  # the newsletter and the archive summary only
        response = client.get("/weekly/")

    assert response.content.decode().count('class="issue-link"') == 5


# --- conditional GET ---------------------------------------------------------------------
def test_the_landing_page_answers_304_to_a_matching_etag(client, newsletter):
    make_issues(newsletter, 2)
    first = client.get("/weekly/")

    again = client.get("/weekly/", HTTP_IF_NONE_MATCH=first["ETag"])

    assert first["ETag"] and first["Last-Modified"]
    assert again.status_code == 304
    assert again.content == b""


def test_the_issue_page_answers_304_to_if_modified_since(client, newsletter):
    make_issues(newsletter, 1)
    first = client.get("/weekly/issue-0/")

    again = client.get("/weekly/issue-0/", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])

    assert again.status_code == 304


def test_a_new_issue_in_the_archive_changes_the_etag(client, newsletter):
    make_issues(newsletter, 1)
    first = client.get("/weekly/")
    later = make_issue(newsletter, sent=False, slug="later", subject="Brand new")
    # The sending engine marks issues sent with a bulk UPDATE: no save(), no signals.
    Issue.objects.filter(pk=later.pk).update(status=Issue.Status.SENT, sent_at=timezone.now())

    again = client.get("/weekly/", HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 200
    assert "Brand new" in again.content.decode()
    assert again["ETag"] != first["ETag"]


def test_an_edited_issue_changes_its_page(client, newsletter):
    issue = make_issues(newsletter, 1)[0]
    first = client.get("/weekly/issue-0/")
    issue.body_markdown = "Corrected text."
    issue.save()

    again = client.get("/weekly/issue-0/", HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 200
    assert "Corrected text." in again.content.decode()


def test_editing_the_newsletter_changes_the_landing_page(client, newsletter):
    make_issues(newsletter, 1)
    first = client.get("/weekly/")
    newsletter.description = "A new description."
    newsletter.save()

    again = client.get("/weekly/", HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 200
    assert "A new description." in again.content.decode()
