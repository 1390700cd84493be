"""The sending panel in the issue admin: buttons, their effects, and the progress JSON."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from newsletter import sending
from newsletter.models import Delivery, Issue
from staff.roles import AUTHOR, EDITOR
from tests.conftest import wait_for
from tests.factories import make_draft, make_newsletter, make_readers
from tests.newsletter.sending.send_helpers import forget_send_state
from tests.staff.staff_users import StaffClient, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_send_state():
    forget_send_state()


@pytest.fixture
def author(db):
    return get_user_model().objects.create_superuser("author", "author@example.org", "pw-123456")


@pytest.fixture
def author_client(author):
    client = Client()
    client.force_login(author)
    return client


@pytest.fixture
def issue():
    newsletter = make_newsletter()
    make_readers(newsletter, 5)
    return make_draft(newsletter)


def act(client, issue, action, **data):
    """Press a button; Send now and Schedule also confirm on the page that asks first."""
    url = reverse("admin:newsletter_issue_sending", args=[issue.pk])
    if action in ("send_now", "schedule"):
        data = {"sending_confirm": "yes", **data}
    return client.post(url, {"sending_action": action, **data}, follow=True)


def status_of(issue):
    return Issue.objects.get(pk=issue.pk).status


def test_a_draft_shows_send_schedule_and_test_buttons(author_client, issue):
    response = author_client.get(reverse("admin:newsletter_issue_change", args=[issue.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    for action in ("send_now", "schedule", "test_me", "test_list"):
        assert f'value="{action}"' in page
    # Pause waits hidden until the panel script shows it when the send starts.
    assert 'value="pause" data-sending-button="pause" hidden' in page
    assert "js/send-progress.js" in page
    assert "<script>" not in page.split('id="rb-sending"')[1]  # no inline script


def test_pause_resume_and_cancel_change_the_issue(author_client, issue):
    sending.start_send(issue=issue)
    act(author_client, issue, "pause")
    assert status_of(issue) == Issue.Status.PAUSED
    act(author_client, issue, "resume")
    assert status_of(issue) == Issue.Status.SENDING
    act(author_client, issue, "cancel")
    assert status_of(issue) == Issue.Status.CANCELLED
    assert set(Delivery.objects.values_list("status", flat=True)) == {"skipped"}


def test_send_now_survives_a_lost_task_because_the_issue_is_due(author_client, issue):
    # No worker runs here: the queued task is as good as lost.
    act(author_client, issue, "send_now")
    assert status_of(issue) == Issue.Status.SCHEDULED
    url = reverse("admin:newsletter_issue_sending_progress", args=[issue.pk])
    assert author_client.get(url).json()["status_label"] == "Scheduled"
    assert sending.send_due_issues() == 1  # what celery beat runs every minute
    assert status_of(issue) == Issue.Status.SENDING
    assert Delivery.objects.filter(issue=issue).count() == 5


def test_a_wrong_action_for_the_state_is_an_error_not_a_500(author_client, issue):
    response = act(author_client, issue, "pause")
    assert response.status_code == 200
    assert "Only a send in progress can be paused." in response.content.decode()
    assert status_of(issue) == Issue.Status.DRAFT


def test_scheduling_needs_a_future_time(author_client, issue):
    response = act(author_client, issue, "schedule", sending_schedule_at="2001-01-01T09:00")
    assert "future" in response.content.decode()
    assert status_of(issue) == Issue.Status.DRAFT
    act(author_client, issue, "schedule", sending_schedule_at="2999-01-01T09:00")
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SCHEDULED and issue.scheduled_at.year == 2999


def test_a_test_to_bad_addresses_is_refused(author_client, issue):
    response = act(author_client, issue, "test_list", sending_test_addresses="ok@example.org, nope")
    assert "Not an email address: nope" in response.content.decode()


def test_retry_failed_is_one_click(author_client, issue):
    sending.start_send(issue=issue)
    Delivery.objects.update(status="failed", error="550 no")
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.SENT)
    act(author_client, issue, "retry_failed")
    assert set(Delivery.objects.values_list("status", flat=True)) == {"queued"}
    assert status_of(issue) == Issue.Status.SENDING


def test_the_buttons_need_csrf(author, issue):
    client = Client(enforce_csrf_checks=True)
    client.force_login(author)
    sending.start_send(issue=issue)
    url = reverse("admin:newsletter_issue_sending", args=[issue.pk])
    assert client.post(url, {"sending_action": "pause"}).status_code == 403
    assert status_of(issue) == Issue.Status.SENDING


def test_progress_needs_staff(client, issue):
    url = reverse("admin:newsletter_issue_sending_progress", args=[issue.pk])
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_progress_reports_counts_failures_and_rate(author_client, issue):
    sending.start_send(issue=issue)
    ids = list(Delivery.objects.values_list("id", flat=True))
    Delivery.objects.filter(id__in=ids[:3]).update(status="sent", sent_at=issue.created_at)
    Delivery.objects.filter(id=ids[3]).update(
        status="failed", error="smtp: 550 no", provider="smtp"
    )
    url = reverse("admin:newsletter_issue_sending_progress", args=[issue.pk])
    data = author_client.get(url).json()
    assert (data["status"], data["total"], data["sent"]) == ("sending", 5, 3)
    assert data["counts"]["failed"] == 1 and data["counts"]["queued"] == 1
    assert data["failures"] == [{"reason": "smtp: 550 no", "count": 1}]
    assert data["provider_errors"] == {"smtp": 1}
    assert data["breaker"]["state"] in ("closed", "open", "half_open")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_send_now_runs_on_a_worker_and_progress_reaches_the_total(
    start_worker, smtp_server, author_client, issue
):
    start_worker(EMAIL_URL=smtp_server.url)
    act(author_client, issue, "send_now")
    wait_for(lambda: status_of(issue) == "sent", timeout=30, message="the send to finish")
    url = reverse("admin:newsletter_issue_sending_progress", args=[issue.pk])
    data = author_client.get(url).json()
    assert (data["sent"], data["total"], data["status"]) == (5, 5, "sent")
    assert len(smtp_server.received) == 5


# -- who may send ------------------------------------------------------------------------
SENDING_BUTTONS = ("send_now", "schedule", "test_me", "test_list", "pause", "cancel")


@pytest.fixture
def editor_client():
    return StaffClient(make_staff("editor", role=EDITOR))


def test_an_editor_sees_the_issue_and_its_progress_but_no_send_buttons(editor_client, issue):
    sending.start_send(issue=issue)
    response = editor_client.get(reverse("admin:newsletter_issue_change", args=[issue.pk]))
    page = response.content.decode()
    assert response.status_code == 200 and 'id="rb-send-progress"' in page
    for action in SENDING_BUTTONS:
        assert f'value="{action}"' not in page
    progress = reverse("admin:newsletter_issue_sending_progress", args=[issue.pk])
    assert editor_client.get(progress).json()["total"] == 5


@pytest.mark.parametrize(
    "action, data",
    [
        ("send_now", {}),
        ("schedule", {"sending_schedule_at": "2999-01-01T09:00"}),
        ("test_me", {}),
        ("test_list", {"sending_test_addresses": "ann@example.org"}),
    ],
)
def test_an_editor_cannot_send_schedule_or_test(
    editor_client, issue, action, data, django_capture_on_commit_callbacks
):
    url = reverse("admin:newsletter_issue_sending", args=[issue.pk])
    with django_capture_on_commit_callbacks() as callbacks:
        response = editor_client.submit(url, {"sending_action": action, **data})
    assert response.status_code == 403
    assert status_of(issue) == Issue.Status.DRAFT and not callbacks


@pytest.mark.parametrize("action", ["pause", "cancel", "retry_failed"])
def test_an_editor_cannot_pause_cancel_or_retry_a_send(editor_client, issue, action):
    sending.start_send(issue=issue)
    Delivery.objects.filter(pk=Delivery.objects.first().pk).update(status="failed")
    url = reverse("admin:newsletter_issue_sending", args=[issue.pk])
    assert editor_client.submit(url, {"sending_action": action}).status_code == 403
    assert status_of(issue) == Issue.Status.SENDING
    assert Delivery.objects.filter(status="failed").count() == 1


def test_an_editor_cannot_resume_a_paused_send(editor_client, issue):
    sending.start_send(issue=issue)
    sending.pause_send(issue=issue)
    url = reverse("admin:newsletter_issue_sending", args=[issue.pk])
    assert editor_client.submit(url, {"sending_action": "resume"}).status_code == 403
    assert status_of(issue) == Issue.Status.PAUSED


def test_an_editor_cannot_retry_failed_from_the_list(editor_client, issue):
    sending.start_send(issue=issue)
    Delivery.objects.update(status="failed")
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.SENT)
    changelist = reverse("admin:newsletter_issue_changelist")
    assert 'value="retry_failed_action"' not in editor_client.get(changelist).content.decode()
    editor_client.submit(
        changelist, {"action": "retry_failed_action", "_selected_action": [issue.pk]}
    )
    assert set(Delivery.objects.values_list("status", flat=True)) == {"failed"}


def test_an_author_may_send(issue):
    client = StaffClient(make_staff("writer", role=AUTHOR))
    page = client.get(reverse("admin:newsletter_issue_change", args=[issue.pk])).content.decode()
    assert 'value="send_now"' in page
    url = reverse("admin:newsletter_issue_sending", args=[issue.pk])
    assert client.submit(url, {"sending_action": "send_now"}).status_code == 200  # asks first
    assert status_of(issue) == Issue.Status.DRAFT
    confirmed = {"sending_action": "send_now", "sending_confirm": "yes"}
    assert client.submit(url, confirmed).status_code == 302
    assert status_of(issue) == Issue.Status.SCHEDULED


def test_the_statistics_need_the_newsletter_view_permission(issue):
    url = reverse("admin:newsletter_newsletter_statistics", args=[issue.newsletter_id])
    stranger = StaffClient(make_staff("stranger"))
    assert stranger.get(url).status_code == 403
    assert stranger.submit(url).status_code == 403
    assert StaffClient(make_staff("editor", role=EDITOR)).get(url).status_code == 200
