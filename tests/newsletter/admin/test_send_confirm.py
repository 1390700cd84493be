"""Send now and Schedule ask first: a page that names the issue, the newsletter and how
many readers the send reaches, and a POST with the confirm field that starts it."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from newsletter import sending
from newsletter.models import Delivery, Issue
from newsletter.sending import audience
from tests.factories import make_draft, make_newsletter, make_readers, subscribe
from tests.newsletter.sending.send_helpers import forget_send_state

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_send_state():
    forget_send_state()


@pytest.fixture
def author_client(db):
    author = get_user_model().objects.create_superuser("author", "a@example.org", "pw-123456")
    client = Client()
    client.force_login(author)
    return client


@pytest.fixture
def issue():
    newsletter = make_newsletter(name="Garden Notes")
    make_readers(newsletter, 4)
    make_readers(newsletter, 2, domain="pending.example", status="pending")
    make_readers(newsletter, 1, domain="gone.example", status="unsubscribed")
    return make_draft(newsletter, subject="Spring seeds")


def post(client, issue, **data):
    url = reverse("admin:newsletter_issue_sending", args=[issue.pk])
    return client.post(url, data)


def status_of(issue):
    return Issue.objects.get(pk=issue.pk).status


def test_send_now_first_shows_how_many_readers_it_reaches(author_client, issue):
    response = post(author_client, issue, sending_action="send_now")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Send “Spring seeds” to 4 readers of Garden Notes" in page
    assert "the number of confirmed readers now" in page
    assert 'name="sending_confirm"' in page
    assert status_of(issue) == Issue.Status.DRAFT


def test_the_confirmed_send_starts_and_snapshots_the_counted_readers(author_client, issue):
    counted = audience.audience_count(newsletter=issue.newsletter)
    response = post(author_client, issue, sending_action="send_now", sending_confirm="yes")
    assert response.status_code == 302
    assert status_of(issue) == Issue.Status.SCHEDULED  # due now; the worker starts it
    sending.send_due_issues()
    assert Delivery.objects.filter(issue=issue).count() == counted == 4


def test_schedule_confirms_the_time_with_its_time_zone(author_client, issue, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    response = post(
        author_client, issue, sending_action="schedule", sending_schedule_at="2999-06-01T09:30"
    )
    page = response.content.decode()
    assert "2999-06-01 09:30 CEST (Europe/Berlin)" in page
    assert "to 4 readers of Garden Notes" in page
    assert 'value="2999-06-01T09:30"' in page
    assert status_of(issue) == Issue.Status.DRAFT
    post(
        author_client,
        issue,
        sending_action="schedule",
        sending_schedule_at="2999-06-01T09:30",
        sending_confirm="yes",
    )
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SCHEDULED
    assert issue.scheduled_at.isoformat() == "2999-06-01T07:30:00+00:00"


def test_a_bad_schedule_time_is_refused_before_any_confirmation(author_client, issue):
    response = post(author_client, issue, sending_action="schedule", sending_schedule_at="tomorrow")
    assert response.status_code == 302
    assert status_of(issue) == Issue.Status.DRAFT


def test_one_reader_reads_in_the_singular(author_client):
    newsletter = make_newsletter(name="Tiny")
    subscribe(newsletter, "solo@example.org")
    issue = make_draft(newsletter, subject="Hi")
    page = post(author_client, issue, sending_action="send_now").content.decode()
    assert "Send “Hi” to 1 reader of Tiny" in page


def test_an_issue_page_shows_the_schedule_time_zone(author_client, issue, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    page = author_client.get(
        reverse("admin:newsletter_issue_change", args=[issue.pk])
    ).content.decode()
    assert "Europe/Berlin" in page.split('id="rb-sending"')[1]


def test_a_sent_issue_gets_no_confirmation_page_but_the_reason(author_client, issue):
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.SENT)
    url = reverse("admin:newsletter_issue_sending", args=[issue.pk])
    response = author_client.post(url, {"sending_action": "send_now"}, follow=True)
    page = response.content.decode()
    assert "This issue has been sent already." in page and "rb-send-confirm" not in page


def test_the_progress_json_carries_the_issue_fields_and_buttons(author_client, issue):
    sending.start_send(issue=issue)
    url = reverse("admin:newsletter_issue_sending_progress", args=[issue.pk])
    state = author_client.get(url).json()["issue"]
    assert state["status_label"] == "Sending" and state["recipients"] == 4
    assert state["buttons"] == {
        "send": False, "pause": True, "resume": False, "cancel": True, "retry": False,
    }  # fmt: skip
