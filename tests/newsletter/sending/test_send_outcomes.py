"""Recording a round's outcomes: the record of mails that went out survives any other
part of the bookkeeping failing, and transient errors alone never duplicate a mail."""

import random
from collections import Counter

import pytest
from django.conf import settings as django_settings

from newsletter import sending
from newsletter.models import Delivery, Issue
from newsletter.sending import ledger
from newsletter.sending.breaker import CircuitBreaker
from newsletter.sending.outcomes import SENT, TRANSIENT, Outcome
from tests.conftest import free_port, wait_for
from tests.factories import make_draft, make_newsletter, make_readers
from tests.newsletter.sending.send_helpers import forget_send_state, statuses


@pytest.fixture(autouse=True)
def fresh_send_state():
    forget_send_state()
    yield
    forget_send_state()


@pytest.mark.django_db
def test_a_breaker_that_cannot_count_loses_no_record_of_sent_mail(settings):
    newsletter = make_newsletter()
    make_readers(newsletter, 3)
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    first, second, third = ledger.claim_batch(issue_id=issue.pk, size=3)
    # The shared store is gone (nothing listens there): the breaker raises on any count.
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    breaker = CircuitBreaker("smtp")
    with pytest.raises(Exception):  # noqa: B017 - whatever the client raises
        breaker.record_transient()
    outcomes = [
        (first, Outcome(SENT, provider_message_id="<a@x>")),
        (second, Outcome(TRANSIENT, error="smtp: 451 try again")),
        (third, Outcome(SENT, provider_message_id="<c@x>")),
    ]
    ledger.record_outcomes(outcomes, breaker, "smtp")
    assert sorted(statuses(issue).values()) == ["retrying", "sent", "sent"]
    assert Delivery.objects.get(pk=third).provider_message_id == "<c@x>"


def answer_451_to_some(handler, share, seed):
    """The SMTP server refuses `share` of all RCPTs with a temporary error."""
    chance = random.Random(seed)
    accept = handler.handle_RCPT

    async def handle_RCPT(server, session, envelope, address, rcpt_options):
        if chance.random() < share:
            return "451 4.3.0 Temporary lookup failure, try again"
        return await accept(server, session, envelope, address, rcpt_options)

    handler.handle_RCPT = handle_RCPT


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_temporary_refusals_on_two_workers_send_no_reader_twice(start_worker, smtp_server):
    count = 3000 if django_settings.IS_POSTGRES else 1000
    seed = random.randrange(10**6)
    print(f"seed {seed}")
    answer_451_to_some(smtp_server.handler, 0.1, seed)
    newsletter = make_newsletter()
    addresses = make_readers(newsletter, count)
    issue = make_draft(newsletter)
    env = {
        "EMAIL_URL": smtp_server.url,
        "SEND_LANES": 4,
        "SEND_CLAIM_SIZE": 20,
        "SEND_LEASE_SECONDS": 15,
        "SEND_RETRY_BASE_SECONDS": 0.2,
        "SEND_RETRY_MAX_SECONDS": 1,
        "SEND_MAX_ATTEMPTS": 30,
    }
    workers = [start_worker(**env) for _ in range(2)]
    sending.start_send(issue=issue)

    def finished():
        sending.sweep_deliveries()  # what celery beat does every 30 s
        return Issue.objects.get(pk=issue.pk).status == Issue.Status.SENT

    wait_for(finished, timeout=150, interval=1.0, message="the send to finish")
    crashed = [line for w in workers for line in w.output().splitlines() if "raised" in line]
    assert crashed == []
    per_reader = Counter(mail.rcpt_tos[0] for mail in smtp_server.received)
    assert set(per_reader) == set(addresses)
    twice = {address: n for address, n in per_reader.items() if n > 1}
    assert twice == {}
    assert set(statuses(issue).values()) == {"sent"}
