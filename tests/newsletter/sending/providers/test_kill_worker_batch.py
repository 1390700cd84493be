"""Crash safety of the batch path with real processes: SIGKILLed workers lose no reader.

The guarantee (docs/sending.md): every reader gets the issue at least once, and the only
duplicates are the mails in flight at the instant of a kill: over a batch API at most one
batch per worker process. Here workers send through anymail's Mailgun backend to the fake
Mailgun API, and through Postmark's batchWithTemplates with the issue's stored template
to the fake Postmark API, both on loopback, whose calls take a while, so kills land while
calls are in flight: the fake still accepts the batch, the dead worker never records it,
and after the lease another worker sends those readers again, with the same Message-ID.
"""

import os
import random
import time
from collections import Counter, defaultdict
from email.utils import parseaddr

import pytest
from django.conf import settings as django_settings

from newsletter import sending
from newsletter.models import Delivery, Issue
from newsletter.sending import emails
from tests.conftest import wait_for
from tests.factories import make_draft, make_newsletter, make_readers
from tests.fakes.esp import FakeMailgun
from tests.fakes.postmark import FakePostmark, provider_env
from tests.newsletter.sending.send_helpers import forget_send_state

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CONCURRENCY = 2  # pool processes per worker: each can have one batch in flight
BATCH_SIZE = 25
CALL_SECONDS = 0.15  # how long the fake provider takes per call
KILLS = 2
# SQLite serialises every write (claims and results), so the embedded run sends to fewer
# readers to stay within the CI time budget; the kills still land mid-send.
READERS = 3000 if django_settings.IS_POSTGRES else 1200
WORKER_ENV = {
    "SEND_BATCH_SIZE": BATCH_SIZE,
    "SEND_CLAIM_SIZE": 2 * BATCH_SIZE,  # two calls per claim: kills also land between them
    "SEND_LANES": 4,
    # Well above the ~0.5 s one claim takes even on a loaded machine (a lease that runs
    # out under a live worker would re-send its rows), short enough to finish quickly.
    "SEND_LEASE_SECONDS": 6,
    "SEND_RETRY_BASE_SECONDS": 0.2,
}


class KilledPostmark(FakePostmark):
    """The fake Postmark, its mails in the shape of the other fakes' (`to`, `headers`)."""

    def accept(self, message):
        answer = super().accept(message)
        if answer.get("ErrorCode") == 0:
            mail = self.delivered[-1]
            mail["to"] = parseaddr(mail["To"])[1]
            mail["headers"] = {h["Name"]: h["Value"] for h in mail["Headers"]}
        return answer


@pytest.fixture(params=["mailgun", "postmark"])
def provider(request):
    forget_send_state()
    fake = (FakeMailgun if request.param == "mailgun" else KilledPostmark)().start()
    fake.delay = CALL_SECONDS
    yield fake
    fake.stop()
    forget_send_state()


@pytest.fixture
def seed():
    """The seed of the kill schedule; KILL_TEST_SEED=… repeats a failed run's choices."""
    value = int(os.environ.get("KILL_TEST_SEED") or random.randrange(2**32))
    print(f"kill schedule seed: {value} (KILL_TEST_SEED={value} to repeat)")
    return value


def issue_status(issue):
    return Issue.objects.get(pk=issue.pk).status


def kill_workers_mid_send(start_worker, issue, env, rng):
    """Kill KILLS workers at random points of the send, each replaced at once."""
    workers = [start_worker(queues="bulk,default", concurrency=CONCURRENCY, **env)]
    workers.append(start_worker(queues="bulk,default", concurrency=CONCURRENCY, **env))
    sending.start_send(issue=issue)
    kills = 0
    for _ in range(KILLS):
        time.sleep(rng.uniform(1.0, 3.0))
        if issue_status(issue) == "sent":
            break
        victim = workers.pop(rng.randrange(len(workers)))
        victim.kill()  # SIGKILL to the whole process group, mid-send
        kills += 1
        workers.append(start_worker(queues="bulk,default", concurrency=CONCURRENCY, **env))
    return kills


def copies_per_reader(provider):
    copies = defaultdict(list)
    for mail in provider.delivered:
        copies[mail["to"]].append(mail)
    return copies


def test_killing_batch_workers_at_random_points_skips_no_reader(
    start_worker, provider, settings, seed
):
    settings.SEND_LEASE_SECONDS = WORKER_ENV["SEND_LEASE_SECONDS"]  # for the sweeps below
    settings.SEND_LANES = WORKER_ENV["SEND_LANES"]
    newsletter = make_newsletter()
    addresses = make_readers(newsletter, READERS)
    issue = make_draft(newsletter)
    env = {**WORKER_ENV, **provider_env(provider)}
    kills = kill_workers_mid_send(start_worker, issue, env, random.Random(seed))
    context = f"seed {seed}, {kills} kills"
    assert kills >= 1, f"the send finished before any worker could be killed ({context})"

    def finished():
        sending.sweep_deliveries()  # what celery beat does every 30 s
        return issue_status(issue) == "sent"

    wait_for(finished, timeout=60, interval=1.0, message=f"the send to finish ({context})")

    # The ledger: every row sent, with the provider's answer.
    rows = Delivery.objects.filter(issue=issue)
    assert rows.filter(status="sent").count() == READERS, context
    assert not rows.filter(provider_message_id="").exists(), context

    # Every reader got the mail, no one else did, and it went out in batch calls.
    copies = copies_per_reader(provider)
    missing = set(addresses) - set(copies)
    assert not missing, f"{len(missing)} readers never got the issue ({context})"
    assert set(copies) == set(addresses), context
    assert max(call[1] if isinstance(call, tuple) else call for call in provider.calls) == (
        BATCH_SIZE
    ), context

    # Each reader's copies carry that reader's one deterministic Message-ID.
    subscriber_ids = dict(rows.values_list("subscriber__email", "subscriber_id"))
    for address, mails in copies.items():
        expected = emails.message_id_for(issue.pk, subscriber_ids[address])
        assert {mail["headers"]["Message-ID"] for mail in mails} == {expected}, context

    # Duplicates only from the calls in flight at a kill: one batch per killed process.
    # A copy that was followed by another one went out in such a call (delivered is in
    # the order the fake accepted the mails).
    repeated = [mails for mails in copies.values() if len(mails) > 1]
    duplicates = sum(len(mails) - 1 for mails in repeated)
    interrupted = Counter(mail["call"] for mails in repeated for mail in mails[:-1])
    print(f"{context}: {duplicates} duplicates from {len(interrupted)} interrupted calls")
    assert len(interrupted) <= kills * CONCURRENCY, f"{dict(interrupted)} ({context})"
    assert duplicates <= kills * CONCURRENCY * BATCH_SIZE, f"{duplicates} ({context})"
