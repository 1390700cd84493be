"""A killed worker stops a send for less than a minute at the default settings.

The README's scaling example, one worker with `-c 4`, may work all four lanes of a send;
SIGKILLed, it takes them all down. Their holds run out within lanes.LANE_HOLD_SECONDS
and the sweeper (every 30 s, sent here through the worker as beat sends it) starts them
again on the worker that replaced it. Only the rows the dead worker had claimed wait for
their lease (SEND_LEASE_SECONDS, 300 s): one of them may have been on the wire.
"""

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db.models import F, Q
from django.utils import timezone

from newsletter import sending
from newsletter.models import Delivery, Issue
from newsletter.sending import lanes
from newsletter.tasks import sweep_deliveries_task
from tests.conftest import wait_for
from tests.factories import make_draft, make_newsletter, make_readers
from tests.newsletter.sending.send_helpers import forget_send_state

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

READERS = 3000
CONCURRENCY = 4
LANES = 4  # the default
# Only the rate is set, to make the send last long enough to kill it midway; lanes,
# claims, lease and breaker keep their defaults.
WORKER_ENV = {"SEND_RATE_PER_SECOND": 100}
CLAIM_SIZE = 200  # the default SEND_CLAIM_SIZE


@pytest.fixture(autouse=True)
def fresh_send_state():
    forget_send_state()


class Beat:
    """Sends the sweep task every SWEEP_SECONDS, as celery beat does."""

    def __init__(self):
        self.last = time.monotonic()

    def tick(self):
        if time.monotonic() - self.last >= lanes.SWEEP_SECONDS:
            self.last = time.monotonic()
            sweep_deliveries_task.delay()


def sent_count(issue):
    return Delivery.objects.filter(issue=issue, status="sent").count()


def wait_while_beating(beat, predicate, timeout, message):
    def beating():
        beat.tick()
        return predicate()

    return wait_for(beating, timeout=timeout, interval=0.2, message=message)


def test_a_killed_worker_with_every_lane_stops_the_send_for_under_a_minute(
    start_worker, smtp_server
):
    assert django_settings.SEND_LEASE_SECONDS == 300
    assert django_settings.SEND_LANES == LANES
    newsletter = make_newsletter()
    addresses = make_readers(newsletter, READERS)
    issue = make_draft(newsletter)
    env = {"EMAIL_URL": smtp_server.url, **WORKER_ENV}
    worker = start_worker(concurrency=CONCURRENCY, **env)
    beat = Beat()
    sending.start_send(issue=issue)
    wait_while_beating(beat, lambda: sent_count(issue) >= 400, 60, "the send to get going")
    worker.kill()
    killed_at, sent_at_kill, killed_on_clock = time.monotonic(), sent_count(issue), timezone.now()
    start_worker(concurrency=CONCURRENCY, **env)
    wait_while_beating(
        beat, lambda: sent_count(issue) > sent_at_kill, 60, "the send to go on after the kill"
    )
    standstill = time.monotonic() - killed_at
    print(f"standstill after the kill: {standstill:.1f} s")
    assert standstill < 60

    # Everything but the dead worker's claims goes out; those wait for their lease.
    def only_dead_claims_left():
        unfinished = Delivery.objects.filter(issue=issue).unfinished()
        dead = Q(status="sending", claimed_at__lt=killed_on_clock)
        return unfinished.exists() and not unfinished.exclude(dead).exists()

    wait_while_beating(beat, only_dead_claims_left, 90, "all but the dead worker's claims")
    held = Delivery.objects.filter(issue=issue, status="sending")
    assert not held.filter(claimed_at__gte=killed_on_clock).exists()
    print(f"rows held by the dead worker until their lease: {held.count()}")
    assert held.count() <= LANES * CLAIM_SIZE
    # The lease passes (five minutes, not waited for here): the sweeper sends them.
    held.update(claimed_at=F("claimed_at") - timedelta(seconds=300))
    sweep_deliveries_task.delay()
    wait_while_beating(
        beat,
        lambda: Issue.objects.get(pk=issue.pk).status == Issue.Status.SENT,
        60,
        "the send to finish",
    )
    per_reader = Counter(mail.rcpt_tos[0] for mail in smtp_server.received)
    assert set(per_reader) == set(addresses)
    duplicates = sum(count - 1 for count in per_reader.values())
    print(f"duplicates: {duplicates}")
    in_flight = CONCURRENCY * django_settings.SMTP_CONNECTIONS_PER_WORKER
    assert duplicates <= in_flight
