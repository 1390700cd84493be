"""Readers who leave after their row was claimed are not mailed: the engine checks the
claimed readers again right before the provider call (at most every RECHECK_SECONDS).

The world changes while the provider works on an earlier call of the same claim: the fake
provider (or SMTP server) unsubscribes one reader and suppresses another from its own
thread, as the unsubscribe page or a complaint webhook would, and takes a little longer
than RECHECK_SECONDS to answer, so the next call of the claim is due for a check.
"""

import asyncio

import pytest
from aiosmtpd.controller import Controller
from django.db import connection

from newsletter import sending
from newsletter.models import Issue
from newsletter.sending import dispatch, providers
from newsletter.sending.breaker import CircuitBreaker
from subscribers import services as subscriber_services
from subscribers.models import Event, Subscription, Suppression
from subscribers.suppression import email_hash
from tests.conftest import RecordingHandler, free_port, send_over_smtp_to
from tests.factories import make_draft, make_newsletter, make_readers
from tests.fakes.esp import FakeMailgun
from tests.newsletter.sending.send_helpers import drain, forget_send_state, statuses

# The world changes from another thread, which only sees committed rows.
pytestmark = pytest.mark.django_db(transaction=True)

SLOWER_THAN_A_RECHECK = dispatch.RECHECK_SECONDS + 0.2


@pytest.fixture(autouse=True)
def fresh_send_state():
    forget_send_state()
    yield
    forget_send_state()


def leave_during_the_send(issue):
    """reader3 unsubscribes, reader2 is suppressed (say a complaint on another list)."""
    try:
        subscription = Subscription.objects.get(
            newsletter=issue.newsletter, subscriber__email="reader3@example.com"
        )
        subscriber_services.unsubscribe(subscription=subscription, reason=Event.Reason.LINK)
        Suppression.objects.create(
            email_hash=email_hash("reader2@example.com"), reason=Suppression.Reason.COMPLAINED
        )
    finally:
        connection.close()  # this thread's own connection


def assert_the_leavers_were_skipped(issue):
    got = statuses(issue)
    assert got["reader2@example.com"] == "skipped"
    assert got["reader3@example.com"] == "skipped"
    assert {got[f"reader{n}@example.com"] for n in (0, 1, 4, 5)} == {"sent"}
    errors = dict(issue.deliveries.values_list("subscriber__email", "error"))
    assert errors["reader2@example.com"] == "address is suppressed"
    assert errors["reader3@example.com"] == "no longer subscribed (unsubscribed)"
    assert Issue.objects.get(pk=issue.pk).status == "sent"


@pytest.fixture
def mailgun(settings):
    fake = FakeMailgun().start()
    settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
    settings.ANYMAIL = fake.anymail_settings()
    providers._django_mail.clear()  # a kept-open session belongs to an older fake
    yield fake
    fake.stop()
    providers._django_mail.clear()


def test_a_batch_call_leaves_out_readers_who_left_since_the_claim(mailgun, settings):
    settings.SEND_BATCH_SIZE = 2
    settings.SEND_CLAIM_SIZE = 4  # one claim: reader0-3 in two calls, then reader4-5
    newsletter = make_newsletter()
    make_readers(newsletter, 6)
    issue = make_draft(newsletter)
    mailgun.delay = SLOWER_THAN_A_RECHECK
    mailgun.on_call = lambda call: call == 1 and leave_during_the_send(issue)
    sending.start_send(issue=issue)
    drain(issue)
    assert mailgun.calls == [2, 2]
    delivered = sorted(mail["to"] for mail in mailgun.delivered)
    assert delivered == [f"reader{n}@example.com" for n in (0, 1, 4, 5)]
    assert_the_leavers_were_skipped(issue)


class SlowFirstAnswer(RecordingHandler):
    """Records mails; at the first one, runs `on_first` and takes a while to answer."""

    on_first = None

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.received) == 1:
            await asyncio.to_thread(self.on_first)  # the ORM is not for the event loop
            await asyncio.sleep(SLOWER_THAN_A_RECHECK)
        return answer


def test_an_smtp_send_leaves_out_readers_who_left_since_the_claim(settings):
    CircuitBreaker("smtp").record_success()
    settings.SEND_CLAIM_SIZE = 4
    settings.SMTP_CONNECTIONS_PER_WORKER = 2  # reader0-1 at once, then reader2-3, …
    newsletter = make_newsletter()
    make_readers(newsletter, 6)
    issue = make_draft(newsletter)
    handler = SlowFirstAnswer()
    handler.on_first = lambda: leave_during_the_send(issue)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    send_over_smtp_to(settings, controller.port)
    try:
        sending.start_send(issue=issue)
        drain(issue)
    finally:
        controller.stop()
    delivered = sorted(mail.rcpt_tos[0] for mail in handler.received)
    assert delivered == [f"reader{n}@example.com" for n in (0, 1, 4, 5)]
    assert_the_leavers_were_skipped(issue)


def test_readers_are_checked_again_at_most_every_recheck_interval(mailgun, settings, monkeypatch):
    """A fast send does not pay for a check per call: within the interval the claim's
    own check stands, so the window for a leaver is at most RECHECK_SECONDS."""
    monkeypatch.setattr(dispatch, "RECHECK_SECONDS", 60)
    settings.SEND_BATCH_SIZE = 2
    settings.SEND_CLAIM_SIZE = 4
    newsletter = make_newsletter()
    make_readers(newsletter, 6)
    issue = make_draft(newsletter)
    mailgun.delay = SLOWER_THAN_A_RECHECK
    mailgun.on_call = lambda call: call == 1 and leave_during_the_send(issue)
    sending.start_send(issue=issue)
    drain(issue)
    assert mailgun.calls == [2, 2, 2]
    got = statuses(issue)
    assert got["reader2@example.com"] == got["reader3@example.com"] == "sent"
