"""The delivery ledger, worked in this process: snapshot, skips, errors, retries, actions."""

import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from newsletter import rendering, sending
from newsletter.models import Delivery, Issue
from newsletter.sending import dispatch, emails, ledger
from newsletter.sending.breaker import CircuitBreaker
from subscribers import services as subscriber_services
from subscribers import suppression
from subscribers.models import Subscription
from tests.conftest import RecordingHandler, free_port, send_over_smtp_to
from tests.factories import make_draft, make_newsletter, make_readers, subscribe
from tests.newsletter.sending.send_helpers import drain, statuses

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_retries(settings):
    settings.SEND_RETRY_BASE_SECONDS = 0.05
    settings.SEND_RETRY_MAX_SECONDS = 0.2
    settings.SEND_MAX_ATTEMPTS = 3
    settings.SEND_BREAKER_THRESHOLD = 1000
    CircuitBreaker("smtp").record_success()
    yield
    CircuitBreaker("smtp").record_success()


def test_the_snapshot_is_one_insert_for_every_confirmed_reader(newsletter):
    make_readers(newsletter, 300)
    make_readers(newsletter, 5, status="pending", domain="pending.example")
    make_readers(newsletter, 5, status="unsubscribed", domain="gone.example")
    other = make_newsletter(slug="other")
    make_readers(other, 7, domain="other.example")
    issue = make_draft(newsletter)
    with CaptureQueriesContext(connection) as queries:
        count = sending.start_send(issue=issue)
    inserts = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1 and "SELECT" in inserts[0].upper()
    assert count == 300 == Delivery.objects.filter(issue=issue).count()
    issue.refresh_from_db()
    assert (issue.status, issue.recipient_count) == (Issue.Status.SENDING, 300)
    assert not Delivery.objects.filter(subscriber__email__endswith=".example").exists()


def test_a_sent_issue_cannot_be_started_twice(newsletter):
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    with pytest.raises(sending.SendError):
        sending.start_send(issue=issue)


def test_it_sends_every_reader_once_and_marks_the_issue_sent(newsletter, smtp_server):
    emails = make_readers(newsletter, 120)
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    subscribe(newsletter, "late@example.com")  # joins during the send: not added
    drain(issue)
    assert set(statuses(issue).values()) == {"sent"}
    assert sorted(m.rcpt_tos[0] for m in smtp_server.received) == sorted(emails)
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT and issue.sent_at is not None
    assert not smtp_server.to("late@example.com")


def test_readers_who_leave_during_the_send_are_skipped(newsletter, smtp_server):
    subscribe(newsletter, "stays@example.com")
    leaving = subscribe(newsletter, "leaves@example.com")
    subscribe(newsletter, "bounced@example.com")
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    subscriber_services.unsubscribe(subscription=leaving, reason="link")
    suppression.record_bounce(email="bounced@example.com")
    drain(issue)
    assert statuses(issue) == {
        "stays@example.com": "sent",
        "leaves@example.com": "skipped",
        "bounced@example.com": "skipped",
    }
    assert [m.rcpt_tos for m in smtp_server.received] == [["stays@example.com"]]


def test_a_suppressed_address_is_skipped_even_if_confirmed(newsletter, smtp_server):
    subscribe(newsletter, "blocked@example.com")
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    suppression.suppress(email="blocked@example.com", reason="admin")
    Subscription.objects.update(status="confirmed")  # suppression alone must be enough
    drain(issue)
    assert statuses(issue) == {"blocked@example.com": "skipped"}
    assert smtp_server.received == []


def test_a_permanent_refusal_fails_one_reader_and_not_the_others(newsletter, smtp_server):
    make_readers(newsletter, 5)
    smtp_server.handler.reply["reader2@example.com"] = "550 5.1.1 No such user"
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    drain(issue)
    result = statuses(issue)
    assert result.pop("reader2@example.com") == "failed"
    assert set(result.values()) == {"sent"}
    failed = Delivery.objects.get(status="failed")
    assert "550" in failed.error and failed.provider == "smtp"
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT


def test_a_transient_refusal_is_retried_with_backoff_until_it_goes_through(newsletter, smtp_server):
    subscribe(newsletter, "grey@example.com")
    smtp_server.handler.reply["grey@example.com"] = "451 4.7.1 Greylisted, try again"
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    result = drain(issue)
    delivery = Delivery.objects.get()
    assert delivery.status == "retrying" and "451" in delivery.error
    assert delivery.next_attempt_at > timezone.now() - timedelta(seconds=1)
    assert result.wake_in is not None and result.wake_in < 1
    del smtp_server.handler.reply["grey@example.com"]
    Delivery.objects.update(next_attempt_at=timezone.now())
    drain(issue)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)


def test_a_transient_error_fails_after_the_last_attempt(newsletter, smtp_server):
    subscribe(newsletter, "grey@example.com")
    smtp_server.handler.reply["grey@example.com"] = "451 4.7.1 Try again"
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    for _ in range(3):
        Delivery.objects.filter(status="retrying").update(next_attempt_at=timezone.now())
        drain(issue)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 3)


def test_backoff_grows_exponentially_with_jitter(settings):
    settings.SEND_RETRY_BASE_SECONDS, settings.SEND_RETRY_MAX_SECONDS = 10, 1000
    first = [ledger.backoff_seconds(1) for _ in range(50)]
    third = [ledger.backoff_seconds(3) for _ in range(50)]
    assert all(5 <= s <= 15 for s in first) and len(set(first)) > 1
    assert all(20 <= s <= 60 for s in third)
    assert ledger.backoff_seconds(30) <= 1500


def test_retry_failed_queues_only_the_failures_again(newsletter, smtp_server):
    make_readers(newsletter, 3)
    smtp_server.handler.reply["reader1@example.com"] = "550 No such user"
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    drain(issue)
    del smtp_server.handler.reply["reader1@example.com"]
    assert sending.retry_failed(issue=issue) == 1
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENDING
    drain(issue)
    assert set(statuses(issue).values()) == {"sent"}
    assert len(smtp_server.to("reader1@example.com")) == 1
    assert len(smtp_server.to("reader0@example.com")) == 1  # not sent again


def test_pause_stops_and_resume_goes_on(newsletter, smtp_server):
    make_readers(newsletter, 10)
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    sending.pause_send(issue=issue)
    result = drain(issue)
    assert not result.keep_going and smtp_server.received == []
    assert set(statuses(issue).values()) == {"queued"}
    sending.resume_send(issue=issue)
    drain(issue)
    assert len(smtp_server.received) == 10


def test_a_worker_hands_back_its_claim_when_the_issue_is_paused_mid_batch(
    newsletter, smtp_server, monkeypatch
):
    make_readers(newsletter, 6)
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    monkeypatch.setattr(dispatch, "STATUS_CHECK_SECONDS", 0)
    ids = ledger.claim_batch(issue_id=issue.pk, size=6)
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.PAUSED)
    dispatch.send_claimed(
        issue=issue, claimed=ledger.load_readers(issue, ids), breaker=CircuitBreaker("smtp")
    )
    assert smtp_server.received == []
    assert set(statuses(issue).values()) == {"queued"}
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {0}


def test_cancel_skips_what_is_left(newsletter, smtp_server):
    make_readers(newsletter, 4)
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    sending.cancel_send(issue=issue)
    drain(issue)
    assert set(statuses(issue).values()) == {"skipped"}
    assert smtp_server.received == []
    with pytest.raises(sending.SendError):
        sending.resume_send(issue=issue)


def test_a_row_stuck_in_sending_past_its_lease_is_claimed_again(newsletter, settings):
    make_readers(newsletter, 2)
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    settings.SEND_LEASE_SECONDS = 60
    first = ledger.claim_batch(issue_id=issue.pk, size=1)
    assert ledger.claim_batch(issue_id=issue.pk, size=5) != first
    Delivery.objects.filter(id__in=first).update(claimed_at=timezone.now() - timedelta(minutes=2))
    assert ledger.claim_batch(issue_id=issue.pk, size=5) == first


def claimed_ids(issue, size):
    return [delivery_id for delivery_id, _, _ in ledger.claim_readers(issue, size)]


def test_claim_readers_takes_due_rows_once_and_loads_who_may_get_mail(newsletter, settings):
    # On PostgreSQL one statement claims and loads; elsewhere claim_batch + load_readers.
    settings.SEND_LEASE_SECONDS = 60
    make_readers(newsletter, 4)
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    ids = list(Delivery.objects.order_by("id").values_list("id", flat=True))
    Subscription.objects.filter(subscriber__email="reader3@example.com").update(
        status=Subscription.Status.UNSUBSCRIBED
    )
    Delivery.objects.filter(id=ids[1]).update(
        status="retrying", next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    claimed = ledger.claim_readers(issue, 10)
    assert [row[0] for row in claimed] == [ids[0], ids[2], ids[3]]  # the retry is not due
    reader = claimed[0][1]
    assert (reader.email, reader.name) == ("reader0@example.com", "Reader 0")
    assert reader.unsubscribe_url.endswith(
        f"/u/{Subscription.objects.get(subscriber__email='reader0@example.com').token}/"
    )
    assert claimed[2][1] is None and "unsubscribed" in claimed[2][2]
    assert set(
        Delivery.objects.filter(id__in=[ids[0], ids[2], ids[3]]).values_list("status", "attempts")
    ) == {("sending", 1)}
    assert claimed_ids(issue, 10) == []  # claimed rows are not claimed twice
    Delivery.objects.filter(id=ids[0]).update(claimed_at=timezone.now() - timedelta(minutes=2))
    assert claimed_ids(issue, 10) == [ids[0]]  # past its lease


def test_the_sweeper_resets_stuck_rows(newsletter, settings):
    make_readers(newsletter, 1)
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    settings.SEND_LEASE_SECONDS = 60
    ledger.claim_batch(issue_id=issue.pk, size=1)
    Delivery.objects.update(claimed_at=timezone.now() - timedelta(minutes=2))
    assert sending.sweep_deliveries()["reset"] == 1
    assert Delivery.objects.get().status == "retrying"


def test_an_outage_opens_the_breaker_without_failing_the_issue(newsletter, smtp_server, settings):
    settings.SEND_BREAKER_THRESHOLD = 3
    settings.SEND_BREAKER_COOLDOWN_SECONDS = 30
    settings.SMTP_CONNECTIONS_PER_WORKER = 4
    make_readers(newsletter, 10)
    settings.EMAIL_PORT = free_port()  # nothing listens there: the provider is down
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    result = drain(issue)
    breaker = CircuitBreaker("smtp")
    assert breaker.state() == breaker.OPEN
    assert 20 < result.wake_in <= 30
    counts = dict(Delivery.objects.values_list("status").annotate(n=Count("id")))
    # The third error opens the breaker; the fourth mail was in flight with it (4
    # connections at once), then it stopped trying.
    assert counts == {"retrying": 4, "queued": 6}
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENDING


def test_a_successful_probe_closes_the_breaker(newsletter, smtp_server, settings):
    settings.SEND_BREAKER_THRESHOLD = 2
    settings.SEND_BREAKER_COOLDOWN_SECONDS = 0.2
    make_readers(newsletter, 5)
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    breaker = CircuitBreaker("smtp")
    breaker.record_transient()
    breaker.record_transient()
    time.sleep(0.3)  # the cool-down is over: half-open
    assert breaker.state() == breaker.HALF_OPEN
    dispatch.lane_step(issue.pk)
    assert len(smtp_server.received) == 1  # exactly one probe
    assert breaker.state() == breaker.CLOSED
    drain(issue)
    assert len(smtp_server.received) == 5


def test_due_scheduled_issues_start_and_future_ones_wait(newsletter):
    make_readers(newsletter, 2)
    due = make_draft(newsletter, slug="due")
    later = make_draft(newsletter, slug="later")
    sending.schedule_send(issue=due, when=timezone.now() + timedelta(minutes=5))
    sending.schedule_send(issue=later, when=timezone.now() + timedelta(days=1))
    Issue.objects.filter(pk=due.pk).update(scheduled_at=timezone.now() - timedelta(seconds=1))
    assert sending.send_due_issues() == 1
    assert Issue.objects.get(pk=due.pk).status == Issue.Status.SENDING
    assert Issue.objects.get(pk=later.pk).status == Issue.Status.SCHEDULED
    assert Delivery.objects.filter(issue=due).count() == 2


def test_the_issue_is_rendered_once_for_all_readers(newsletter, smtp_server, monkeypatch):
    calls = []
    real = rendering.render_issue
    monkeypatch.setattr(rendering, "render_issue", lambda issue: calls.append(1) or real(issue))
    emails.rendered_issues.clear()
    make_readers(newsletter, 40)
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    drain(issue)
    assert len(smtp_server.received) == 40
    assert len(calls) == 1


class PeerRecordingHandler(RecordingHandler):
    peers: set

    async def handle_DATA(self, server, session, envelope):
        self.peers.add(session.peer)
        return await super().handle_DATA(server, session, envelope)


def test_smtp_mail_goes_over_a_few_reused_connections(newsletter, settings):
    settings.SMTP_CONNECTIONS_PER_WORKER = 3
    handler = PeerRecordingHandler()
    handler.peers = set()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    send_over_smtp_to(settings, controller.port)
    try:
        make_readers(newsletter, 30)
        issue = make_draft(newsletter)
        sending.start_send(issue=issue)
        drain(issue)
    finally:
        controller.stop()
    assert len(handler.received) == 30
    assert 1 <= len(handler.peers) <= 3  # never one connection per mail


def test_smtp_outcomes_are_recorded_once_per_round_of_connections(
    newsletter, smtp_server, settings
):
    settings.SMTP_CONNECTIONS_PER_WORKER = 5
    make_readers(newsletter, 20)
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    with CaptureQueriesContext(connection) as queries:
        drain(issue)
    marks = [q["sql"] for q in queries if "sent.message_id" in q["sql"]]
    assert len(marks) == 4  # 20 readers, 5 mails at a time, one statement each
    assert len(smtp_server.received) == 20
    for delivery in Delivery.objects.filter(issue=issue):
        assert delivery.status == Delivery.Status.SENT and delivery.provider == "smtp"
        expected = emails.message_id_for(issue.pk, delivery.subscriber_id)
        assert delivery.provider_message_id == expected


@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner statistics: PostgreSQL")
def test_a_large_snapshot_refreshes_the_planner_statistics(newsletter, monkeypatch):
    def planner_rows():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE relname = %s", [Delivery._meta.db_table]
            )
            return cursor.fetchone()[0]

    make_readers(newsletter, 30)
    monkeypatch.setattr(sending, "ANALYZE_AFTER_ROWS", 31)
    sending.start_send(issue=make_draft(newsletter, slug="small"))
    assert planner_rows() != 30  # below the threshold: left to autovacuum
    monkeypatch.setattr(sending, "ANALYZE_AFTER_ROWS", 30)
    sending.start_send(issue=make_draft(newsletter, slug="large"))
    assert planner_rows() == 60
