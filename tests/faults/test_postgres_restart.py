"""PostgreSQL restarted in the middle of a send (pg_ctl restart -m fast on the private
cluster): every open connection is cut, every transaction in progress rolls back.

The send must go on by itself within seconds once the database is back, not freeze for a
lease; every reader gets the mail; the only duplicates are the mails whose outcome could
not be recorded when the database went away (at most one per SMTP connection: the same
bound as a killed worker, docs/sending.md).
"""

import time

import pytest

from tests.conftest import wait_for
from tests.factories import make_draft, make_newsletter, make_readers
from tests.faults.ledger import (
    figures,
    longest_pause,
    retries,
    smtp_copies,
    statuses,
    wait_until_sent,
)

pytestmark = [pytest.mark.worker, pytest.mark.faults]

READERS = 3000
WORKERS, CONCURRENCY, CONNECTIONS = 2, 2, 4
LEASE_SECONDS = 20
WORKER_ENV = {
    "SEND_LANES": 4,
    "SEND_CLAIM_SIZE": 50,
    "SEND_LEASE_SECONDS": LEASE_SECONDS,
    "SEND_RETRY_BASE_SECONDS": 0.3,
    "SEND_RATE_PER_SECOND": 150,  # the send lasts about 20 s, the restart lands inside it
    "SMTP_CONNECTIONS_PER_WORKER": CONNECTIONS,
}


def first_copies(server):
    """Arrival time of each reader's first copy, in order."""
    seen, times = set(), []
    for mail, at in zip(list(server.received), list(server.handler.arrivals), strict=False):
        if mail.rcpt_tos[0] not in seen:
            seen.add(mail.rcpt_tos[0])
            times.append(at)
    return times


def test_a_postgres_restart_mid_send_delays_it_by_seconds_not_a_lease(fault_site, flaky_smtp):
    newsletter = make_newsletter()
    addresses = make_readers(newsletter, READERS)
    issue = make_draft(newsletter)
    fault_site.start_workers(
        WORKERS, concurrency=CONCURRENCY, EMAIL_URL=flaky_smtp.url, **WORKER_ENV
    )
    fault_site.start_sweeper()
    fault_site.send_task("newsletter.send_issue", issue_id=issue.pk)
    handler = flaky_smtp.handler
    wait_for(lambda: len(handler.received) >= 600, timeout=60, message="the send to get going")
    restart_at = time.monotonic()
    fault_site.postgres.restart()
    back_at = time.monotonic()

    elapsed = wait_until_sent(issue.pk, timeout=120)

    copies = smtp_copies(flaky_smtp)
    firsts = first_copies(flaky_smtp)
    # Until nine readers in ten have the mail: rows claimed by a step the restart cut off
    # wait for their lease (the engine cannot know whether they went out), the rest
    # must not.
    until = firsts[int(0.9 * READERS)]
    after_restart = [t for t in handler.arrivals if restart_at <= t <= until]
    standstill = longest_pause([restart_at, *after_restart])
    figures(
        "PostgreSQL restarted mid-send",
        readers=READERS,
        elapsed_s=elapsed,
        restart_s=back_at - restart_at,
        standstill_s=standstill,
        lease_s=LEASE_SECONDS,
        duplicates=copies.duplicates,
        retries=retries(issue.pk),
        ledger=statuses(issue.pk),
    )
    assert statuses(issue.pk) == {"sent": READERS}
    assert set(copies.per_reader) == set(addresses)
    assert copies.duplicates <= WORKERS * CONCURRENCY * CONNECTIONS
    assert standstill < LEASE_SECONDS / 2, f"the send stood still for {standstill:.1f} s"
