"""An SMTP server that misbehaves mid-send: busy answers, refusals, cut connections.

Each test starts real workers against a private PostgreSQL and Redis, sends one issue to
a few thousand readers, and lets the send finish by itself (the sweeper stands in for
celery beat). Then: every reader got the mail, duplicates stay within the bound of
docs/sending.md (none where no outcome was unknown), permanent refusals are recorded per
reader with the server's reason, and the figures are printed.
"""

from collections import Counter

import pytest

from newsletter.models import Delivery
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
from tests.faults.smtp import in_share

pytestmark = [pytest.mark.worker, pytest.mark.faults]

READERS = 2000
OUTAGE_SECONDS = 60  # "down for a minute", the outage seen in the field
WORKER_ENV = {
    "SEND_LANES": 4,
    "SEND_CLAIM_SIZE": 50,
    # Far longer than any claim takes here: a copy sent twice is the engine's doing,
    # not a lease running out under a live worker.
    "SEND_LEASE_SECONDS": 60,
    "SEND_RETRY_BASE_SECONDS": 0.3,
    "SMTP_CONNECTIONS_PER_WORKER": 4,
    "SEND_BREAKER_COOLDOWN_SECONDS": 1,
}


def start_send(site, server, readers=READERS, workers=2, **env):
    newsletter = make_newsletter()
    addresses = make_readers(newsletter, readers)
    issue = make_draft(newsletter)
    site.start_workers(workers, EMAIL_URL=server.url, **{**WORKER_ENV, **env})
    site.start_sweeper()
    site.send_task("newsletter.send_issue", issue_id=issue.pk)
    return issue.pk, addresses


def failed_reasons(issue_id):
    rows = Delivery.objects.filter(issue_id=issue_id, status="failed")
    return dict(rows.values_list("subscriber__email", "error"))


def test_busy_answers_and_refusals_finish_the_send_without_duplicates(fault_site, flaky_smtp):
    handler = flaky_smtp.handler
    handler.busy_share = 0.10  # 451 to one reader in ten, on their first attempt
    refused = [f"reader{n}@example.com" for n in range(7, READERS, 150)]
    handler.reply = {address: "550 5.1.1 No such user here" for address in refused}
    issue_id, addresses = start_send(fault_site, flaky_smtp)

    elapsed = wait_until_sent(issue_id, timeout=240)

    copies = smtp_copies(flaky_smtp)
    busy = [a for a in addresses if in_share(a, handler.busy_share) and a not in refused]
    figures(
        "SMTP 451 to 10 % + 550 to some",
        readers=READERS,
        elapsed_s=elapsed,
        busy_readers=len(busy),
        busy_answers=handler.busy_answers,
        refused=len(refused),
        duplicates=copies.duplicates,
        retries=retries(issue_id),
        standstill_s=longest_pause(handler.arrivals),
        ledger=statuses(issue_id),
    )
    assert statuses(issue_id) == {"sent": READERS - len(refused), "failed": len(refused)}
    reasons = failed_reasons(issue_id)
    assert set(reasons) == set(refused)
    assert all("550" in reason and "No such user" in reason for reason in reasons.values())
    assert set(copies.per_reader) == set(addresses) - set(refused)
    assert busy and handler.busy_answers >= len(busy)  # the fault did happen
    # No reader's outcome was ever unknown (no kill, no cut connection): no duplicates.
    assert copies.duplicates == 0, f"{copies.duplicates} readers got two copies"


def test_connections_cut_after_the_message_repeat_only_those_messages(fault_site, flaky_smtp):
    handler = flaky_smtp.handler
    handler.drop_every = 50  # every 50th message: taken, then the connection dies unanswered
    handler.keep_dropped = True
    issue_id, addresses = start_send(fault_site, flaky_smtp)

    elapsed = wait_until_sent(issue_id, timeout=240)

    copies = smtp_copies(flaky_smtp)
    figures(
        "SMTP connection cut every 50th message",
        readers=READERS,
        elapsed_s=elapsed,
        cuts=handler.drops,
        duplicates=copies.duplicates,
        retries=retries(issue_id),
        standstill_s=longest_pause(handler.arrivals),
    )
    assert statuses(issue_id) == {"sent": READERS}
    assert set(copies.per_reader) == set(addresses)
    assert len(handler.cut_after_taking) >= READERS // 50
    # The client cannot know that a cut message arrived, so it sends it again (same
    # Message-ID): a message arrives once more for each time it was cut, no more.
    cuts = Counter(mail.message["Message-ID"] for mail in handler.cut_after_taking)
    repeats = {mid: count - 1 for mid, count in copies.per_message_id.items() if count > 1}
    assert all(repeats[mid] <= cuts[mid] for mid in repeats), (repeats, cuts)
    assert copies.duplicates <= len(handler.cut_after_taking)


def test_an_smtp_outage_pauses_the_send_and_it_resumes_by_itself(fault_site, flaky_smtp):
    issue_id, addresses = start_send(
        fault_site, flaky_smtp, SEND_RATE_PER_SECOND=200, SEND_RETRY_BASE_SECONDS=1
    )
    handler = flaky_smtp.handler
    wait_for(lambda: len(handler.received) >= 300, timeout=60, message="the send to get going")
    outage = flaky_smtp.go_down(OUTAGE_SECONDS)  # gone, then back on the same port
    outage.join()

    elapsed = wait_until_sent(issue_id, timeout=240)

    copies = smtp_copies(flaky_smtp)
    (down_at, up_at) = flaky_smtp.outages[0]
    during = [t for t in handler.arrivals if down_at < t < up_at]
    after = sorted(t for t in handler.arrivals if t >= up_at)
    figures(
        f"SMTP server down for {OUTAGE_SECONDS} s",
        readers=READERS,
        elapsed_s=elapsed,
        outage_s=up_at - down_at,
        resumed_after_s=(after[0] - up_at) if after else -1.0,
        duplicates=copies.duplicates,
        retries=retries(issue_id),
        standstill_s=longest_pause(handler.arrivals),
        ledger=statuses(issue_id),
    )
    assert not during
    assert statuses(issue_id) == {"sent": READERS}, "an outage must not fail anyone"
    assert set(copies.per_reader) == set(addresses)
    # Mails on the wire when the server went away: at most one per connection.
    assert copies.duplicates <= 2 * 2 * WORKER_ENV["SMTP_CONNECTIONS_PER_WORKER"]
    # The breaker's cool-down doubles while the server stays away (1, 2, 4, … s), so the
    # one running when it is back is at most about as long as the outage so far; then the
    # probe goes through (not over a connection that died with the server) and the lanes
    # start again (the sweeper looks every 2 s).
    cool_down = WORKER_ENV["SEND_BREAKER_COOLDOWN_SECONDS"]
    assert after and after[0] - up_at < OUTAGE_SECONDS + cool_down + 5
