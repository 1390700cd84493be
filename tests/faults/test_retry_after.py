"""Reading a provider's Retry-After (the fault tests check that the workers honour it)."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from requests import Response

from newsletter.ratelimit import MAX_RETRY_AFTER_SECONDS, retry_after_seconds


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
