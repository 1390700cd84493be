"""A provider HTTP API that misbehaves mid-send: 429 with Retry-After, 500, 503, calls
that hang past the client's timeout, malformed JSON.

Workers send through anymail's Mailgun backend, 25 readers per call, to the fake Mailgun
API on loopback (tests/fakes/esp.py), which misbehaves on chosen calls. Where the fake
refused a call (429, 5xx) nothing went out and nothing may arrive twice; where it took
the call but the client could not read the answer (a timeout, malformed JSON), the
engine cannot know, sends those readers again with the same Message-ID, and only those
may arrive twice: at most one batch per such call.
"""

from collections import defaultdict
from email.utils import parseaddr

import pytest

from tests.conftest import wait_for
from tests.factories import make_draft, make_newsletter, make_readers
from tests.fakes.esp import FakeMailgun, Fault
from tests.fakes.postmark import FakePostmark, provider_env
from tests.faults.ledger import figures, longest_pause, retries, statuses, wait_until_sent

pytestmark = [pytest.mark.worker, pytest.mark.faults]

BATCH_SIZE = 25
CLIENT_TIMEOUT = 2.0
WORKER_ENV = {
    "SEND_BATCH_SIZE": BATCH_SIZE,
    "SEND_CLAIM_SIZE": 2 * BATCH_SIZE,
    "SEND_LANES": 4,
    "SEND_LEASE_SECONDS": 60,  # never runs out under a live worker here
    "SEND_RETRY_BASE_SECONDS": 0.3,
    "SEND_BREAKER_COOLDOWN_SECONDS": 1,
    "FAULTS_REQUESTS_TIMEOUT": CLIENT_TIMEOUT,
}


@pytest.fixture
def mailgun():
    fake = FakeMailgun().start()
    fake.delay = 0.05
    yield fake
    fake.stop()


@pytest.fixture(params=["mailgun", "postmark"])
def provider(request):
    fake = (FakeMailgun if request.param == "mailgun" else FakePostmark)().start()
    yield fake
    fake.stop()


def start_send(site, fake, readers, workers=2):
    newsletter = make_newsletter()
    addresses = make_readers(newsletter, readers)
    issue = make_draft(newsletter)
    site.start_workers(workers, **WORKER_ENV, **provider_env(fake))
    site.start_sweeper()
    site.send_task("newsletter.send_issue", issue_id=issue.pk)
    return issue.pk, addresses


def copies_per_reader(fake):
    copies = defaultdict(list)
    for mail in list(fake.delivered):
        copies[mail["to"] if "to" in mail else parseaddr(mail["To"])[1]].append(mail)
    return copies


def test_errors_timeouts_and_malformed_answers_lose_no_reader(fault_site, mailgun):
    readers = 1500
    mailgun.faults = {
        4: Fault(status=500),
        8: Fault(status=503),
        12: Fault(status=429),  # no Retry-After: the engine's own backoff
        16: Fault(hang=CLIENT_TIMEOUT + 1.5),
        20: Fault(malformed=True),
        30: Fault(status=503),
        36: Fault(hang=CLIENT_TIMEOUT + 1.5),
    }
    issue_id, addresses = start_send(fault_site, mailgun, readers)

    elapsed = wait_until_sent(issue_id, timeout=150)

    copies = copies_per_reader(mailgun)
    taken_anyway = {call for call, fault in mailgun.faults.items() if fault.accepts}
    repeated = {to: mails for to, mails in copies.items() if len(mails) > 1}
    duplicates = sum(len(mails) - 1 for mails in repeated.values())
    figures(
        "provider 500, 503, 429, timeouts, malformed JSON",
        readers=readers,
        elapsed_s=elapsed,
        calls=mailgun.call_count,
        faults=len(mailgun.faults),
        duplicates=duplicates,
        retries=retries(issue_id),
        standstill_s=longest_pause([at for _call, at in mailgun.arrivals]),
    )
    assert statuses(issue_id) == {"sent": readers}
    assert set(copies) == set(addresses)
    assert mailgun.call_count > max(mailgun.faults)  # every fault was served
    # Only calls the provider took although the client saw an error are repeated: each
    # reader has at most one copy from any other call. (A hung call's copies may arrive
    # after the retry's.)
    extra = {to: [m["call"] for m in mails] for to, mails in repeated.items()
             if sum(m["call"] not in taken_anyway for m in mails) > 1}  # fmt: skip
    assert not extra, extra
    assert duplicates <= BATCH_SIZE * len(taken_anyway)
    for mails in copies.values():  # the same Message-ID on every copy of a reader's mail
        assert len({mail["headers"]["Message-ID"] for mail in mails}) == 1


def test_a_429_with_retry_after_stops_every_worker_for_that_long(fault_site, provider):
    mailgun = provider  # either provider, the same controls
    readers, retry_after, grace = 3000, 5, 1.5
    mailgun.delay = 0.2  # four lanes: about 20 calls a second, a send of about 6 s
    mailgun.faults = {10: Fault(status=429, headers={"Retry-After": str(retry_after)})}
    issue_id, addresses = start_send(fault_site, mailgun, readers)
    wait_for(lambda: mailgun.call_count > 10, timeout=60, message="the 429")

    elapsed = wait_until_sent(issue_id, timeout=150)

    arrivals = sorted(at for _call, at in mailgun.arrivals)
    refused_at = dict(mailgun.arrivals)[10]
    # Calls already on their way, and lanes between two looks at the shared state
    # (every 0.5 s), may still arrive just after the 429; then nothing until it is over.
    window = [at - refused_at for at in arrivals if refused_at + grace < at]
    window = [offset for offset in window if offset < retry_after]
    before = [at for at in arrivals if at < refused_at]
    after = [at for at in arrivals if refused_at + retry_after <= at < refused_at + retry_after + 2]
    figures(
        f"{type(provider).__name__} 429 with Retry-After: 5",
        readers=readers,
        elapsed_s=elapsed,
        calls_per_s_before=len(before) / max(0.1, refused_at - arrivals[0]),
        calls_in_window=len(window),
        calls_per_s_after=len(after) / 2,
        retries=retries(issue_id),
        standstill_s=longest_pause(arrivals),
    )
    assert statuses(issue_id) == {"sent": readers}
    assert set(copies_per_reader(mailgun)) == set(addresses)
    assert not window, f"{len(window)} calls within the Retry-After window, at {window}"
    assert after, "the send did not resume after the Retry-After window"
