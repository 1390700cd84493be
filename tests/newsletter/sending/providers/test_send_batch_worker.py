"""A batch send end to end: real Celery workers, anymail's Mailgun backend, the fake
Mailgun API on loopback."""

import pytest

from newsletter import sending
from newsletter.models import Delivery, Issue
from newsletter.sending import delivery_reference
from tests.conftest import wait_for
from tests.factories import make_draft, make_newsletter, make_readers
from tests.fakes.esp import FakeMailgun
from tests.newsletter.sending.send_helpers import forget_send_state

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mailgun():
    forget_send_state()
    fake = FakeMailgun().start()
    yield fake
    fake.stop()
    forget_send_state()


def test_workers_send_an_issue_in_batch_calls(start_worker, mailgun):
    newsletter = make_newsletter()
    addresses = make_readers(newsletter, 230)
    issue = make_draft(newsletter)
    env = {
        "EMAIL_PROVIDER": "mailgun",
        "ANYMAIL_MAILGUN_API_KEY": FakeMailgun.API_KEY,
        "ANYMAIL_MAILGUN_API_URL": mailgun.url,
        "SITE_URL": "https://news.example.org",
        "SEND_BATCH_SIZE": 50,
        "SEND_LANES": 2,
        "SEND_LEASE_SECONDS": 60,
    }
    start_worker(queues="bulk,default", **env)
    start_worker(queues="bulk,default", **env)
    sending.start_send(issue=issue)
    wait_for(
        lambda: Issue.objects.get(pk=issue.pk).status == "sent",
        timeout=60,
        message="the issue to be sent",
    )
    assert sorted(mail["to"] for mail in mailgun.delivered) == sorted(addresses)
    # Batch calls of at most 50. Lanes that claim at the same moment share the rows left
    # (SKIP LOCKED), so the last rows may come in two smaller calls instead of one.
    assert sum(mailgun.calls) == 230 and max(mailgun.calls) == 50
    assert 5 <= len(mailgun.calls) <= 8
    assert Delivery.objects.filter(issue=issue, status="sent").count() == 230
    (mail,) = mailgun.to("reader7@example.com")
    assert mail["subject"] == "Hello Reader 7"
    assert "Dear Reader 7," in mail["text"]
    assert mail["headers"]["List-Unsubscribe"].startswith("<https://news.example.org/u/")
    delivery = Delivery.objects.get(issue=issue, subscriber__email="reader7@example.com")
    assert mail["metadata"]["delivery"] == delivery_reference.sign(delivery.pk)
