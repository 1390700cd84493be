"""A provider's Retry-After: read from its answer, held in the shared breaker (the fault
tests check that the workers honour it)."""

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from requests import Response

from newsletter.sending.breaker import CircuitBreaker
from newsletter.sending.ratelimit import MAX_RETRY_AFTER_SECONDS, retry_after_seconds


def answer(status, retry_after=None):
    response = Response()
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return response


@pytest.mark.parametrize(
    ("status", "header", "seconds"),
    [
        (429, "7", 7.0),
        (503, "2.5", 2.5),
        (429, None, 0.0),
        (429, "soon", 0.0),
        (429, "-3", 0.0),
        (429, "86400", MAX_RETRY_AFTER_SECONDS),
        (500, "7", 0.0),  # Retry-After means something only on 429 and 503
        (200, "7", 0.0),
    ],
)
def test_it_reads_seconds_and_ignores_what_is_not_a_wait(status, header, seconds):
    assert retry_after_seconds(answer(status, header)) == seconds


def test_it_reads_an_http_date():
    when = datetime.now(UTC) + timedelta(seconds=30)
    assert 25 < retry_after_seconds(answer(429, format_datetime(when, usegmt=True))) <= 30


def test_no_answer_at_all_asks_for_no_wait():
    assert retry_after_seconds(None) == 0.0


def forget(store):
    """Counts and hold both (a success, store.clear(), keeps the hold on purpose)."""
    if hasattr(store, "client"):
        store.client.delete(store.key, store.key + ":hold")
        return
    with store.locked(write=True) as state:
        state.clear()


@pytest.fixture
def breaker():
    breaker = CircuitBreaker("retry-after-test")
    forget(breaker.store)
    yield breaker
    forget(breaker.store)


def test_a_hold_opens_the_breaker_for_every_worker_until_it_ends(breaker):
    breaker.hold(30)
    other_worker = CircuitBreaker("retry-after-test")
    assert other_worker.state() == other_worker.OPEN
    assert 25 < other_worker.open_until() - time.time() <= 30
    assert breaker.tripped  # the worker that was told stops at once


def test_a_success_in_flight_does_not_end_a_hold_and_a_shorter_one_does_not_shorten_it(
    breaker,
):
    breaker.hold(30)
    breaker.hold(5)
    other_worker = CircuitBreaker("retry-after-test")
    other_worker.maybe_failing = True
    other_worker.record_success()  # a call that went out before the 429
    assert other_worker.state() == other_worker.OPEN
    assert other_worker.open_until() - time.time() > 25


def test_a_hold_that_ended_leaves_the_breaker_closed(breaker):
    breaker.hold(0.2)
    time.sleep(0.3)
    assert CircuitBreaker("retry-after-test").state() == CircuitBreaker.CLOSED
