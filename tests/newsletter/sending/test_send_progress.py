"""The progress the admin panel polls says why a send waits and when it goes on."""

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from newsletter import sending
from newsletter.models import Delivery, Issue
from newsletter.sending import ledger, send_progress
from newsletter.sending.breaker import CircuitBreaker
from newsletter.sending.transport import transport_name
from tests.factories import make_draft, make_newsletter, make_readers
from tests.newsletter.sending.send_helpers import drain, forget_send_state

pytestmark = pytest.mark.django_db
CLOCK = re.compile(r"(?:at|from) (\d\d:\d\d:\d\d) \(in (\d+) s\)")


@pytest.fixture(autouse=True)
def fresh_send_state(settings):
    settings.SEND_BREAKER_THRESHOLD = 2
    settings.SEND_BREAKER_COOLDOWN_SECONDS = 30
    forget_send_state()
    yield
    forget_send_state()


@pytest.fixture
def issue():
    newsletter = make_newsletter()
    make_readers(newsletter, 10)
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    return issue


def reasons(issue):
    return {item["reason"]: item for item in sending.progress(issue=issue)["waiting"]}


def test_a_send_going_at_full_speed_waits_for_nothing(issue):
    data = sending.progress(issue=issue)
    assert data["waiting"] == []
    assert data["breaker"]["label"] == "working normally"


def test_an_open_breaker_says_when_the_next_try_is(issue):
    breaker = CircuitBreaker(transport_name())
    breaker.record_transient(2)
    data = sending.progress(issue=issue)
    text = reasons(issue)["breaker"]["text"]
    assert text.startswith("The mail server is not answering; next try at ")
    at, wait = CLOCK.search(text).groups()
    expected = timezone.localtime(timezone.now() + timedelta(seconds=30)).strftime("%H:%M:%S")
    assert abs(int(wait) - 30) <= 1 and at[:5] == expected[:5]
    assert data["breaker"]["label"].startswith("paused after errors, next try at ")


def test_readers_waiting_for_a_retry_are_counted_with_the_next_try(issue):
    soon = timezone.now() + timedelta(seconds=90)
    ids = list(Delivery.objects.filter(issue=issue).values_list("id", flat=True)[:3])
    Delivery.objects.filter(id__in=ids).update(status="retrying", next_attempt_at=soon)
    Delivery.objects.filter(id=ids[0]).update(next_attempt_at=soon + timedelta(hours=1))
    retry = reasons(issue)["retry"]
    assert retry["count"] == 3
    assert retry["text"].startswith("3 readers wait for another try after a temporary error")
    assert int(CLOCK.search(retry["text"]).group(2)) in (88, 89, 90)


def test_a_paused_send_says_so(issue):
    sending.pause_send(issue=issue)
    assert reasons(issue)["paused"]["text"] == "Paused. Press Resume to go on."


def test_a_quota_says_when_the_next_mails_go_out(issue, settings, smtp_server):
    settings.SEND_WARMUP_START = time.strftime("%Y-%m-%d", time.gmtime())
    settings.SEND_WARMUP_DAILY = "2"
    (settings.VAR_DIR / "ratelimit.json").unlink(missing_ok=True)
    drain(issue)
    text = reasons(issue)["rate_limit"]["text"]
    assert text.startswith("The sending limit is reached; the next mails go out at ")


def test_rows_held_by_a_dead_worker_say_when_they_go_out_again(issue, settings):
    settings.SEND_LEASE_SECONDS = 300
    ledger.claim_batch(issue_id=issue.pk, size=4)
    Delivery.objects.filter(status="sending").update(
        claimed_at=timezone.now() - timedelta(seconds=200)
    )
    held = reasons(issue)["held"]
    assert held["count"] == 4
    assert int(CLOCK.search(held["text"]).group(2)) in (99, 100)


def test_the_rate_of_a_young_send_is_measured_since_its_start(issue):
    Issue.objects.filter(pk=issue.pk).update(send_started_at=timezone.now() - timedelta(seconds=10))
    ids = list(Delivery.objects.filter(issue=issue).values_list("id", flat=True)[:5])
    Delivery.objects.filter(id__in=ids).update(status="sent", sent_at=timezone.now())
    data = sending.progress(issue=issue)
    assert data["rate_per_second"] == pytest.approx(0.5, abs=0.05)  # not 5 / 60
    assert data["rate_basis"] == "since the start 10 s ago"
    assert data["eta_seconds"] == 10


def test_the_waiting_reasons_are_in_german_too(issue):
    CircuitBreaker(transport_name()).record_transient(2)
    sending.pause_send(issue=issue)
    with translation.override("de"):
        data = sending.progress(issue=issue)
    texts = [item["text"] for item in data["waiting"]]
    assert texts[0] == "Angehalten. Klicken Sie auf „Fortsetzen“, um weiterzumachen."
    assert texts[1].startswith("Der Mailserver antwortet nicht; nächster Versuch um ")
    assert data["breaker"]["label"].startswith("nach Fehlern pausiert, nächster Versuch um ")


def test_duration_words():
    assert [send_progress.duration(s) for s in (0, 35, 119, 420, 7300)] == [
        "0 s",
        "35 s",
        "119 s",
        "7 min",
        "2 h",
    ]
