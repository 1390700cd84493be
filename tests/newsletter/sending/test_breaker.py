"""The circuit breaker shared by every worker: counted atomically in Redis (a locked file
when embedded), so concurrent successes and failures never crash a batch."""

import threading
import time
import uuid

import pytest

from newsletter.sending.breaker import CircuitBreaker, cool_down_seconds
from tests.newsletter.sending.send_helpers import forget_send_state


@pytest.fixture(autouse=True)
def fresh_breakers():
    forget_send_state()
    yield
    forget_send_state()


def transport():
    return f"test-{uuid.uuid4().hex[:8]}"


def hammer(target, seconds, errors):
    """Call target() in a loop for `seconds`; keep what it raised."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            target()
        except Exception as error:
            errors.append(error)
            return


def test_a_success_between_two_failures_elsewhere_never_raises(settings):
    settings.SEND_BREAKER_THRESHOLD = 10**9  # count only, never trip
    name = transport()
    failing, succeeding = CircuitBreaker(name), CircuitBreaker(name)

    def succeed():
        succeeding.maybe_failing = True  # as after seeing errors on record
        succeeding.record_success()

    errors = []
    threads = [
        threading.Thread(target=hammer, args=(failing.record_transient, 2.0, errors)),
        threading.Thread(target=hammer, args=(succeed, 2.0, errors)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_concurrent_failures_are_all_counted(settings):
    settings.SEND_BREAKER_THRESHOLD = 10**9
    name = transport()

    def fail_100_times():
        breaker = CircuitBreaker(name)
        for _ in range(100):
            breaker.record_transient()

    threads = [threading.Thread(target=fail_100_times) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert CircuitBreaker(name).status()["consecutive_errors"] == 400


def test_errors_from_many_workers_at_once_open_it_once(settings):
    settings.SEND_BREAKER_THRESHOLD = 3
    settings.SEND_BREAKER_COOLDOWN_SECONDS = 30
    name = transport()
    for _ in range(3):
        CircuitBreaker(name).record_transient()
    opened_until = CircuitBreaker(name).open_until()
    # Mails that were in flight on other workers fail after it opened: no longer cool-down.
    for _ in range(20):
        CircuitBreaker(name).record_transient()
    breaker = CircuitBreaker(name)
    assert breaker.state() == breaker.OPEN
    assert breaker.open_until() == opened_until
    assert 25 < opened_until - time.time() <= 30


def test_the_cool_down_grows_but_stays_capped(settings):
    settings.SEND_BREAKER_COOLDOWN_SECONDS = 30
    assert [cool_down_seconds(trips) for trips in range(1, 6)] == [30, 60, 60, 60, 60]
    settings.SEND_BREAKER_COOLDOWN_SECONDS = 120  # a longer one set on purpose is kept
    assert cool_down_seconds(3) == 120


def test_one_probe_at_a_time_after_the_cool_down(settings):
    settings.SEND_BREAKER_THRESHOLD = 2
    settings.SEND_BREAKER_COOLDOWN_SECONDS = 0.2
    breaker = CircuitBreaker(transport())
    breaker.record_transient()
    breaker.record_transient()
    assert breaker.state() == breaker.OPEN
    time.sleep(0.3)
    assert breaker.state() == breaker.HALF_OPEN
    assert breaker.take_probe() is True
    assert breaker.take_probe() is False
    breaker.record_success()
    assert breaker.state() == breaker.CLOSED
    assert breaker.status() == {"state": "closed", "consecutive_errors": 0, "open_until": None}
