"""The archive's hot path: a cached page costs one cache read and no query, and every
committed write to a newsletter or an issue shows on the very next request.

These tests commit for real (transaction=True), as the sending engine and the admin do:
the version is replaced again after the commit, and a page built inside a transaction
that wrote is never stored.
"""

import time

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.utils import timezone

from newsletter.archive import page_cache
from newsletter.models import Issue
from tests.factories import make_issue, make_newsletter

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = ["/", "/weekly/", "/weekly/first-issue/"]


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()


@pytest.fixture
def issue():
    return make_issue(make_newsletter(language="de"))


def field_value(page, name):
    return page.split(f'name="{name}" value="')[1].split('"')[0]


def get(path, **headers):
    return Client().get(path, **headers)


@pytest.mark.parametrize("path", PAGES)
def test_a_cached_page_reads_no_row(path, issue, django_assert_num_queries):
    first = get(path)

    with django_assert_num_queries(0):
        second = get(path)

    assert second.status_code == 200 and not second.templates
    assert second.content.decode().count("Weekly Bits") == first.content.decode().count(
        "Weekly Bits"
    )


@pytest.mark.parametrize("path", PAGES)
def test_a_304_from_the_hot_path_reads_no_row(path, issue, django_assert_num_queries):
    etag = get(path)["ETag"]

    with django_assert_num_queries(0):
        again = get(path, HTTP_IF_NONE_MATCH=etag)

    assert again.status_code == 304


@pytest.mark.parametrize("path", ["/weekly/", "/weekly/first-issue/"])
def test_each_hit_gets_its_own_csrf_token_and_form_stamp(path, issue):
    get(path)
    first, second = get(path), get(path)

    pages = [response.content.decode() for response in (first, second)]
    tokens = {field_value(page, "csrfmiddlewaretoken") for page in pages}
    time.sleep(0.002)
    assert len(tokens) == 2 and all(len(token) == 64 for token in tokens)
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value
    assert field_value(pages[0], "started") != field_value(get(path).content.decode(), "started")
    assert first["Content-Security-Policy"] and first["Content-Language"] == "de"


def test_publishing_by_bulk_update_in_a_transaction_shows_at_once(issue):
    draft = make_issue(issue.newsletter, sent=False, slug="fresh", subject="Fresh news")
    for path in ["/weekly/", "/weekly/fresh/"]:
        get(path), get(path)  # cached (the 404 is not)
    assert "Fresh news" not in get("/weekly/").content.decode()

    with transaction.atomic():  # as the sending engine finishes a send
        Issue.objects.filter(pk=draft.pk).update(status=Issue.Status.SENT, sent_at=timezone.now())

    assert "Fresh news" in get("/weekly/").content.decode()
    assert get("/weekly/fresh/").status_code == 200


def test_unpublishing_and_deleting_an_issue_remove_it_at_once(issue):
    other = make_issue(issue.newsletter, slug="second", subject="Second news")
    get("/weekly/first-issue/"), get("/weekly/second/"), get("/weekly/")

    issue.show_in_archive = False
    issue.save()
    other.delete()

    assert get("/weekly/first-issue/").status_code == 404
    assert get("/weekly/second/").status_code == 404
    landing = get("/weekly/").content.decode()
    assert "First issue" not in landing and "Second news" not in landing


def test_a_send_that_starts_again_takes_the_issue_out_of_the_archive(issue):
    get("/weekly/first-issue/")

    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.SENDING)  # retry_failed

    assert get("/weekly/first-issue/").status_code == 404


def test_editing_the_newsletter_shows_on_every_page_at_once(issue):
    for path in PAGES:
        get(path)
    issue.newsletter.name = "Monthly Bits"
    issue.newsletter.save()

    for path in PAGES:
        assert "Monthly Bits" in get(path).content.decode(), path


def test_a_page_built_inside_a_rolled_back_write_is_not_kept(issue):
    get("/weekly/first-issue/")

    with pytest.raises(RuntimeError), transaction.atomic():
        issue.subject = "Never published"
        issue.save()
        assert "Never published" in get("/weekly/first-issue/").content.decode()
        raise RuntimeError("roll back")

    page = get("/weekly/first-issue/").content.decode()
    assert "Never published" not in page and "First issue" in page


def test_a_write_rolled_back_to_a_savepoint_does_not_keep_pages_out_of_the_cache(
    issue, django_assert_num_queries
):
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            issue.subject = "Never published"
            issue.save()
            raise RuntimeError("roll back to the savepoint")
        get("/weekly/first-issue/")

        with django_assert_num_queries(0):
            page = get("/weekly/first-issue/").content.decode()

    assert "First issue" in page and "Never published" not in page


def test_the_index_has_a_cached_variant_per_language(issue, django_assert_num_queries):
    get("/", HTTP_ACCEPT_LANGUAGE="en"), get("/", HTTP_ACCEPT_LANGUAGE="de")

    with django_assert_num_queries(0):
        english = get("/", HTTP_ACCEPT_LANGUAGE="en")
        german = get("/", HTTP_ACCEPT_LANGUAGE="de")

    assert '<html lang="en">' in english.content.decode() and english["Content-Language"] == "en"
    assert '<html lang="de">' in german.content.decode() and german["Content-Language"] == "de"
    assert english["ETag"] != german["ETag"]


def test_a_lost_version_only_costs_a_miss(issue, django_assert_num_queries):
    get("/weekly/first-issue/")
    cache.delete(page_cache.VERSION_KEY)  # Redis flushed or the key evicted

    assert get("/weekly/first-issue/").status_code == 200
    with django_assert_num_queries(0):
        assert "First issue" in get("/weekly/first-issue/").content.decode()


def test_drafts_never_reach_the_hot_path(issue):
    make_issue(issue.newsletter, sent=False, slug="draft", subject="Secret draft")

    for _ in range(3):
        assert get("/weekly/draft/").status_code == 404
    assert "Secret draft" not in get("/weekly/").content.decode()
    assert "Secret draft" not in get("/weekly/").content.decode()


def test_migrating_makes_every_cached_page_stale(issue):
    from django.core.management.sql import emit_post_migrate_signal

    get("/weekly/first-issue/")
    version = cache.get(page_cache.VERSION_KEY)

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    assert cache.get(page_cache.VERSION_KEY) not in (None, version)
