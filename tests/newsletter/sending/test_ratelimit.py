"""The shared send-rate limiter: token buckets in Redis (a locked file when embedded)."""

import threading
import time
import uuid

import pytest
import redis
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from newsletter import sending
from newsletter.models import Delivery, Issue
from newsletter.sending import ratelimit
from tests.factories import make_draft, make_newsletter, make_readers
from tests.newsletter.sending.send_helpers import drain


def clear_buckets():
    if django_settings.REDIS_URL:
        client = redis.Redis.from_url(django_settings.REDIS_URL)
        for key in client.scan_iter(ratelimit.KEY_PREFIX + "*"):
            client.delete(key)
    else:
        (django_settings.VAR_DIR / "ratelimit.json").unlink(missing_ok=True)


@pytest.fixture(autouse=True)
def fresh_buckets(settings):
    settings.SEND_RATE_PER_SECOND = 0
    settings.SEND_RATE_PER_HOUR = settings.SEND_RATE_PER_DAY = 0
    settings.SEND_RATE_PER_DOMAIN = settings.SEND_WARMUP_START = settings.SEND_WARMUP_DAILY = ""
    clear_buckets()
    yield
    clear_buckets()


def transport():
    return f"test-{uuid.uuid4().hex[:8]}"


def take(name, count, domain="example.com"):
    started = time.monotonic()
    for _ in range(count):
        ratelimit.acquire(transport=name, domain=domain)
    return time.monotonic() - started


def test_per_second_rate_holds_across_concurrent_senders(settings):
    settings.SEND_RATE_PER_SECOND = 20
    name = transport()
    threads = [threading.Thread(target=take, args=(name, 20)) for _ in range(2)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    # 40 tokens at 20/s with a burst of 20: at least one second, wherever they are taken.
    assert 0.9 <= elapsed < 3


def test_no_limit_configured_means_no_waiting():
    assert take(transport(), 200) < 0.5


def test_a_slow_recipient_domain_is_limited_on_its_own(settings):
    settings.SEND_RATE_PER_DOMAIN = "slow.example=5, other.example=100"
    name = transport()
    assert take(name, 50, domain="fast.example") < 0.5
    assert take(name, 10, domain="slow.example") >= 0.9


def test_the_hourly_quota_stops_a_batch_instead_of_sleeping(settings):
    settings.SEND_RATE_PER_HOUR = 5
    name = transport()
    take(name, 5)
    with pytest.raises(ratelimit.RateLimited) as raised:
        ratelimit.acquire(transport=name, domain="example.com", max_wait=1)
    assert 600 <= raised.value.wait <= 720  # one token per 12 minutes


def test_the_warm_up_schedule_caps_mails_per_day(settings):
    settings.SEND_WARMUP_START = time.strftime("%Y-%m-%d", time.gmtime())
    settings.SEND_WARMUP_DAILY = "3,100"
    name = transport()
    take(name, 3)
    with pytest.raises(ratelimit.RateLimited) as raised:
        ratelimit.acquire(transport=name, domain="example.com")
    assert 0 < raised.value.wait <= 86400


def test_bad_limiter_settings_are_named(settings):
    settings.SEND_RATE_PER_DOMAIN = "gmail.com=fast"
    with pytest.raises(ImproperlyConfigured, match="SEND_RATE_PER_DOMAIN"):
        ratelimit.acquire(transport=transport(), domain="gmail.com")


@pytest.mark.django_db
def test_a_send_over_its_daily_quota_waits_without_failing(settings, smtp_server):
    settings.SEND_WARMUP_START = time.strftime("%Y-%m-%d", time.gmtime())
    settings.SEND_WARMUP_DAILY = "2"
    newsletter = make_newsletter()
    make_readers(newsletter, 5)
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    result = drain(issue)
    assert len(smtp_server.received) == 2
    assert result.wake_in > 0
    assert Delivery.objects.filter(status="queued", attempts=0).count() == 3
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.SENDING
