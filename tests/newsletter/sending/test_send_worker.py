"""Sends worked by real Celery worker processes over a real SMTP server on loopback."""

import time

import pytest
from django.conf import settings as django_settings

from newsletter import sending
from newsletter.models import Delivery, Issue
from newsletter.tasks import send_test_task
from tests.conftest import wait_for
from tests.factories import make_draft, make_newsletter, make_readers
from tests.newsletter.sending.send_helpers import forget_send_state

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def fresh_send_state():
    forget_send_state()


WORKER_ENV = {
    "SEND_LANES": 2,
    "SEND_CLAIM_SIZE": 10,
    "SEND_LEASE_SECONDS": 5,
    "SEND_RETRY_BASE_SECONDS": 0.2,
}


def sent_count(issue):
    return Delivery.objects.filter(issue=issue, status="sent").count()


def issue_status(issue):
    return Issue.objects.get(pk=issue.pk).status


def test_a_worker_sends_an_issue_to_every_reader(start_worker, smtp_server, settings):
    newsletter = make_newsletter()
    addresses = make_readers(newsletter, 60)
    issue = make_draft(newsletter)
    start_worker(EMAIL_URL=smtp_server.url, **WORKER_ENV)
    sending.start_send(issue=issue)
    wait_for(lambda: issue_status(issue) == "sent", timeout=30, message="the issue to be sent")
    received = sorted(mail.rcpt_tos[0] for mail in smtp_server.received)
    assert received == sorted(addresses)
    assert sent_count(issue) == 60


def test_pause_and_resume_reach_running_workers_within_seconds(start_worker, smtp_server, settings):
    newsletter = make_newsletter()
    make_readers(newsletter, 400)
    issue = make_draft(newsletter)
    env = {**WORKER_ENV, "SEND_RATE_PER_SECOND": 40, "EMAIL_URL": smtp_server.url}
    start_worker(**env)
    start_worker(**env)
    sending.start_send(issue=issue)
    wait_for(lambda: sent_count(issue) >= 20, timeout=30, message="the send to get going")
    sending.pause_send(issue=issue)
    time.sleep(2)  # a worker looks at the status every 0.5 s
    paused_at = len(smtp_server.received)
    time.sleep(1.5)
    assert len(smtp_server.received) == paused_at < 400
    assert not Delivery.objects.filter(issue=issue, status="sending").exists()
    sending.resume_send(issue=issue)
    wait_for(lambda: len(smtp_server.received) > paused_at, timeout=10, message="resume")
    sending.cancel_send(issue=issue)
    time.sleep(2)
    cancelled_at = len(smtp_server.received)
    time.sleep(1.5)
    assert len(smtp_server.received) == cancelled_at < 400
    assert Delivery.objects.filter(issue=issue, status="skipped").count() == 400 - sent_count(issue)


def test_a_test_send_goes_through_the_priority_queue_during_a_big_send(
    start_worker, smtp_server, settings
):
    newsletter = make_newsletter()
    make_readers(newsletter, 300)
    issue = make_draft(newsletter)
    start_worker(
        queues="bulk,default", EMAIL_URL=smtp_server.url, SEND_RATE_PER_SECOND=20, **WORKER_ENV
    )
    start_worker(queues="priority", EMAIL_URL=smtp_server.url)
    sending.start_send(issue=issue)
    wait_for(lambda: sent_count(issue) >= 5, timeout=30, message="the big send to start")
    assert django_settings.CELERY_TASK_ROUTES["newsletter.send_test"]["queue"] == "priority"
    send_test_task.delay(issue_id=issue.pk, addresses=["me@example.org", "team@example.org"])
    (mail,) = smtp_server.wait_for_mail("me@example.org", timeout=10)
    assert mail.message["Subject"].startswith("[Test] ")
    assert smtp_server.wait_for_mail("team@example.org", timeout=5)
    assert sent_count(issue) < 300  # it did not wait for the big send
    assert not Delivery.objects.filter(subscriber__email="me@example.org").exists()
    sending.cancel_send(issue=issue)
