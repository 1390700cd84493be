"""Issue slugs: made from the subject without placeholder text, following the subject
while the issue is a draft, and a duplicate's slug made from its own subject."""

import pytest
from django.urls import reverse

from newsletter import authoring
from newsletter.models import Issue
from tests.factories import make_issue

pytestmark = pytest.mark.django_db

GREETING = 'Hallo {{ name | default: "Leser" }}, die Woche'


def form_data(newsletter, **overrides):
    data = {
        "newsletter": newsletter.pk,
        "subject": GREETING,
        "preview_text": "",
        "slug": "",
        "body_markdown": "Body",
        "show_in_archive": "on",
    }
    return {**data, **overrides}


def test_a_slug_leaves_placeholder_text_out():
    assert authoring.slug_for_subject(GREETING) == "hallo-die-woche"
    assert authoring.slug_for_subject("{{ name }}") == "issue"
    assert authoring.slug_for_subject("Feed") == "feed-issue"  # the archive's own path


def test_a_new_issue_without_a_slug_gets_one_from_its_subject(admin_client, newsletter):
    response = admin_client.post(reverse("admin:newsletter_issue_add"), form_data(newsletter))

    assert response.status_code == 302
    assert Issue.objects.get().slug == "hallo-die-woche"


def test_the_add_page_does_not_fill_the_slug_with_placeholder_text(admin_client):
    page = admin_client.get(reverse("admin:newsletter_issue_add")).content.decode()

    # Django's prepopulate script would copy the placeholder text into the slug.
    assert 'data-prepopulated-fields="[]"' in page


def test_a_draft_slug_follows_a_new_subject(admin_client, newsletter):
    admin_client.post(reverse("admin:newsletter_issue_add"), form_data(newsletter))
    issue = Issue.objects.get()
    url = reverse("admin:newsletter_issue_change", args=[issue.pk])

    admin_client.post(url, form_data(newsletter, subject="Spring news", slug=issue.slug))

    issue.refresh_from_db()
    assert (issue.subject, issue.slug) == ("Spring news", "spring-news")


def test_autosave_lets_the_slug_follow_the_subject(admin_client, newsletter):
    issue = make_issue(newsletter, sent=False, subject="First issue", slug="first-issue")
    url = reverse("admin:newsletter_issue_autosave", args=[issue.pk])

    response = admin_client.post(url, form_data(newsletter, subject="Second", slug="first-issue"))

    assert response.status_code == 200
    issue.refresh_from_db()
    assert issue.slug == "second"


def test_a_slug_set_by_hand_stays(admin_client, newsletter):
    issue = make_issue(newsletter, sent=False, subject="First issue", slug="first-issue")
    url = reverse("admin:newsletter_issue_change", args=[issue.pk])

    admin_client.post(url, form_data(newsletter, subject="Renamed", slug="my-own"))
    issue.refresh_from_db()
    assert issue.slug == "my-own"
    admin_client.post(url, form_data(newsletter, subject="Renamed again", slug="my-own"))
    issue.refresh_from_db()
    assert issue.slug == "my-own"


def test_a_published_issue_keeps_its_slug(newsletter):
    issue = make_issue(newsletter, sent=True, subject="First issue", slug="first-issue")

    assert authoring.slug_to_store(issue=issue, subject="New", slug="first-issue") == "first-issue"


def test_a_following_slug_stays_unique_in_the_newsletter(admin_client, newsletter):
    make_issue(newsletter, sent=True, subject="Spring news", slug="spring-news")
    add = reverse("admin:newsletter_issue_add")
    admin_client.post(add, form_data(newsletter, subject="Spring news"))

    assert Issue.objects.filter(status=Issue.Status.DRAFT).get().slug == "spring-news-2"


def test_a_duplicate_gets_its_slug_from_its_own_subject_and_follows_it(admin_client, newsletter):
    original = make_issue(newsletter, sent=True, subject="First issue", slug="first-issue")
    copy = authoring.duplicate_issue(issue=original)
    assert copy.slug == "first-issue-2"
    url = reverse("admin:newsletter_issue_change", args=[copy.pk])

    admin_client.post(url, form_data(newsletter, subject="Second issue", slug=copy.slug))

    copy.refresh_from_db()
    assert copy.slug == "second-issue"
