"""The batch path: anymail's Postmark backend against a fake Postmark API on loopback."""

from email.utils import parseaddr

import pytest
from django.utils import timezone

from newsletter import backends, sending
from newsletter.models import Delivery, Issue
from newsletter.ratelimit import CircuitBreaker
from subscribers.models import Subscription
from tests.fakes.audience import make_issue, make_newsletter, make_readers
from tests.fakes.postmark import TOKEN, FakePostmark
from tests.newsletter.send_helpers import drain, statuses

pytestmark = pytest.mark.django_db


@pytest.fixture
def postmark(settings):
    fake = FakePostmark().start()
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": TOKEN, "POSTMARK_API_URL": fake.url}
    settings.SEND_ESP_TEMPLATE = "rundbrief-passthrough"
    settings.SEND_ESP_MESSAGE_STREAM = "broadcast"
    settings.SEND_RETRY_BASE_SECONDS = 0.01
    settings.SITE_URL = "https://news.example.org"
    backends._django_mail.clear()
    CircuitBreaker("postmark").record_success()
    yield fake
    CircuitBreaker("postmark").record_success()
    fake.stop()


def header(message, name):
    return next(h["Value"] for h in message["Headers"] if h["Name"] == name)


def test_one_api_call_carries_up_to_the_provider_maximum(postmark):
    newsletter = make_newsletter()
    addresses = make_readers(newsletter, 1100)
    issue = make_issue(newsletter)
    sending.start_send(issue=issue)
    drain(issue)
    assert postmark.calls == [
        ("/email/batchWithTemplates", 500),
        ("/email/batchWithTemplates", 500),
        ("/email/batchWithTemplates", 100),
    ]
    assert sorted(parseaddr(m["To"])[1] for m in postmark.delivered) == sorted(addresses)
    assert set(statuses(issue).values()) == {"sent"}
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.SENT
    ids = {m["MessageID"] for m in postmark.delivered}
    assert set(Delivery.objects.values_list("provider_message_id", flat=True)) == ids


def test_each_reader_gets_their_own_content_headers_and_metadata(postmark):
    newsletter = make_newsletter()
    make_readers(newsletter, 3)
    issue = make_issue(newsletter)
    sending.start_send(issue=issue)
    drain(issue)
    (message,) = postmark.to("reader1@example.com")
    subscription = Subscription.objects.get(subscriber__email="reader1@example.com")
    delivery = Delivery.objects.get(subscriber__email="reader1@example.com")
    assert message["Subject"] == "Hello Reader 1"
    assert "Reader 1" in message["HtmlBody"] and "Reader 1" in message["TextBody"]
    assert f"/u/{subscription.token}/" in message["TextBody"]
    assert header(message, "List-Unsubscribe") == (
        f"<https://news.example.org/u/{subscription.token}/>"
    )
    assert header(message, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert header(message, "Message-ID").startswith(f"<{issue.pk}.")
    assert message["Metadata"] == {"issue": str(issue.pk), "delivery": str(delivery.pk)}
    assert message["MessageStream"] == "broadcast"
    assert message["Tag"] == "newsletter"
    assert message["To"] == "Reader 1 <reader1@example.com>"


def test_a_refused_recipient_fails_alone(postmark):
    newsletter = make_newsletter()
    make_readers(newsletter, 4)
    postmark.recipient_errors["reader2@example.com"] = (
        406,
        "You tried to send to a recipient that has been marked as inactive.\n"
        "Found inactive addresses: reader2@example.com.\n"
        "Inactive recipients are ones that have generated a hard bounce or a spam complaint.",
    )
    postmark.recipient_errors["reader3@example.com"] = (701, "Something odd, try later")
    issue = make_issue(newsletter)
    sending.start_send(issue=issue)
    drain(issue)
    result = statuses(issue)
    assert result["reader2@example.com"] == "failed"
    assert result["reader3@example.com"] == "retrying"  # unknown code: try again later
    assert result["reader0@example.com"] == result["reader1@example.com"] == "sent"
    assert len(postmark.delivered) == 2  # the two good ones, once


def test_a_provider_error_retries_the_batch(postmark, settings):
    settings.SEND_RETRY_BASE_SECONDS = 60
    newsletter = make_newsletter()
    make_readers(newsletter, 5)
    postmark.fail_next = [503]
    issue = make_issue(newsletter)
    sending.start_send(issue=issue)
    drain(issue)
    assert set(statuses(issue).values()) == {"retrying"}
    assert "503" in Delivery.objects.first().error
    Delivery.objects.update(next_attempt_at=timezone.now())  # the backoff is over
    drain(issue)
    assert set(statuses(issue).values()) == {"sent"}
    assert len(postmark.delivered) == 5


def test_rate_limits_from_the_provider_pause_and_do_not_fail_the_issue(postmark, settings):
    settings.SEND_BREAKER_THRESHOLD = 10
    newsletter = make_newsletter()
    make_readers(newsletter, 30)
    postmark.fail_next = [429, 429]
    settings.SEND_BATCH_SIZE = 5
    issue = make_issue(newsletter)
    sending.start_send(issue=issue)
    drain(issue)
    breaker = CircuitBreaker("postmark")
    assert breaker.state() == breaker.OPEN  # 2 calls x 5 readers = 10 transient errors
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.SENDING
    assert not Delivery.objects.filter(status="failed").exists()


def test_without_a_template_it_sends_one_call_per_reader(postmark, settings):
    settings.SEND_ESP_TEMPLATE = ""
    newsletter = make_newsletter()
    make_readers(newsletter, 3)
    issue = make_issue(newsletter)
    sending.start_send(issue=issue)
    drain(issue)
    assert postmark.calls == [("/email", 1)] * 3
    assert set(statuses(issue).values()) == {"sent"}
    (message,) = postmark.to("reader0@example.com")
    assert message["Subject"] == "Hello Reader 0"
