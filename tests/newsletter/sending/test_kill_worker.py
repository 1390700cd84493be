"""Crash safety with real processes: SIGKILLed workers and a flushed Redis lose no reader.

The guarantee (docs/sending.md): every reader gets the issue at least once, and the only
duplicates are the messages in flight at the instant of a kill: over SMTP at most
SMTP_CONNECTIONS_PER_WORKER per worker pool process. Duplicates carry the same
Message-ID, which is how they are counted here.
"""

import random
import time
from collections import Counter

import pytest
import redis
from django.conf import settings as django_settings

from newsletter import sending
from newsletter.models import Delivery, Issue
from newsletter.tasks import sweep_deliveries_task
from tests.conftest import wait_for
from tests.factories import make_draft, make_newsletter, make_readers
from tests.newsletter.sending.send_helpers import forget_send_state

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def fresh_send_state():
    forget_send_state()


CONCURRENCY = 2
# SQLite serialises every write (claims and results), so the embedded run sends to fewer
# readers to stay within the CI time budget; the kills still land mid-send.
READERS = 3000 if django_settings.IS_POSTGRES else 1200
WORKER_ENV = {
    "SEND_LANES": 4,
    "SEND_CLAIM_SIZE": 20,
    "SEND_LEASE_SECONDS": 5,  # longer than a worker stalls on a loaded machine
    "SEND_RETRY_BASE_SECONDS": 0.2,
    "SEND_RATE_PER_SECOND": 250,  # a few thousand readers take several seconds
    "SMTP_CONNECTIONS_PER_WORKER": 4,
}
# Mails one worker pool process can have sent but not recorded when it is killed.
IN_FLIGHT_PER_PROCESS = WORKER_ENV["SMTP_CONNECTIONS_PER_WORKER"]


def issue_status(issue):
    return Issue.objects.get(pk=issue.pk).status


def sent_count(issue):
    return Delivery.objects.filter(issue=issue, status="sent").count()


def assert_everyone_got_it_once_up_to(smtp_server, addresses, max_duplicates):
    per_reader = Counter(mail.rcpt_tos[0] for mail in smtp_server.received)
    missing = set(addresses) - set(per_reader)
    assert not missing, f"{len(missing)} readers never got the issue"
    per_message_id = Counter(mail.message["Message-ID"] for mail in smtp_server.received)
    assert len(per_message_id) == len(addresses)
    duplicates = sum(count - 1 for count in per_message_id.values())
    assert duplicates <= max_duplicates, f"{duplicates} duplicates > {max_duplicates}"
    return duplicates


def test_killing_workers_at_random_points_skips_no_reader(start_worker, smtp_server, settings):
    settings.SEND_LEASE_SECONDS = WORKER_ENV["SEND_LEASE_SECONDS"]
    settings.SEND_LANES = WORKER_ENV["SEND_LANES"]
    newsletter = make_newsletter()
    addresses = make_readers(newsletter, READERS)
    issue = make_draft(newsletter)
    env = {"EMAIL_URL": smtp_server.url, **WORKER_ENV}
    workers = [start_worker(concurrency=CONCURRENCY, **env) for _ in range(2)]
    sending.start_send(issue=issue)
    kills = 0
    for _ in range(2):
        time.sleep(random.uniform(1.0, 3.0))
        if issue_status(issue) == "sent":
            break
        victim = workers.pop(random.randrange(len(workers)))
        victim.kill()  # SIGKILL to the whole process group, mid-send
        kills += 1
        workers.append(start_worker(concurrency=CONCURRENCY, **env))
    assert kills >= 1, "the send finished before any worker could be killed"

    def finished():
        sending.sweep_deliveries()  # what celery beat does every 30 s
        return issue_status(issue) == "sent"

    wait_for(finished, timeout=45, interval=1.0, message="the send to finish after the kills")
    assert sent_count(issue) == READERS
    assert_everyone_got_it_once_up_to(
        smtp_server, addresses, kills * CONCURRENCY * IN_FLIGHT_PER_PROCESS
    )


@pytest.mark.skipif(
    not django_settings.REDIS_URL, reason="flushing Redis needs Redis (the embedded run has none)"
)
def test_a_flushed_redis_mid_send_is_repaired_by_the_sweeper(start_worker, smtp_server):
    newsletter = make_newsletter()
    addresses = make_readers(newsletter, 1000)
    issue = make_draft(newsletter)
    env = {"EMAIL_URL": smtp_server.url, **WORKER_ENV, "SEND_RATE_PER_SECOND": 150}
    first = start_worker(concurrency=CONCURRENCY, **env)
    sending.start_send(issue=issue)
    wait_for(lambda: sent_count(issue) >= 150, timeout=30, message="the send to get going")
    first.kill()
    redis.Redis.from_url(django_settings.REDIS_URL).flushdb()  # broker queues, lanes, all
    start_worker(concurrency=CONCURRENCY, **env)
    stalled_at = sent_count(issue)
    time.sleep(2)
    assert sent_count(issue) == stalled_at < 1000  # nothing left in the broker to do it
    sweep_deliveries_task.delay()  # the beat schedule's job, run by the new worker
    wait_for(lambda: issue_status(issue) == "sent", timeout=40, message="the sweeper to finish")
    assert_everyone_got_it_once_up_to(smtp_server, addresses, CONCURRENCY * IN_FLIGHT_PER_PROCESS)
