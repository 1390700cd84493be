"""One send-rate limiter shared by every worker: token buckets in Redis, taken atomically.

Buckets (all optional, see settings): per second / hour / day for the provider account,
per recipient domain (SEND_RATE_PER_DOMAIN) and a daily warm-up quota (SEND_WARMUP_*).
A message takes one token from every bucket that applies, all or nothing, in one Lua
script. The embedded mode (no Redis) keeps the same buckets in a file under a lock.
"""

import datetime
import fcntl
import json
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import cache

import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_PREFIX = "rundbrief:ratelimit:"
UNTIL_WINDOW_END = -1.0
MAX_RETRY_AFTER_SECONDS = 3600.0  # a provider asking for more is not taken at its word

# KEYS: bucket keys. ARGV: count, then rate and capacity per key. Returns "0" when the
# tokens were taken, else the seconds to wait (as a string: Lua numbers are truncated),
# or "-1" when a bucket that never refills (a daily quota) is empty.
TAKE_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local count = tonumber(ARGV[1])
local wait = 0
local levels = {}
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i])
  local capacity = tonumber(ARGV[2 * i + 1])
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1]) or capacity
  local at = tonumber(state[2]) or now
  tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
  levels[i] = tokens
  if tokens < count then
    if rate == 0 then return '-1' end
    wait = math.max(wait, (count - tokens) / rate)
  end
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  redis.call('HSET', key, 'tokens', levels[i] - count, 'at', now)
  redis.call('EXPIRE', key, 172800)
end
return '0'
"""


@dataclass(frozen=True)
class Bucket:
    key: str
    rate: float  # tokens added per second (0: a fixed quota for the key's window)
    capacity: float


class RateLimited(Exception):
    """Waiting for tokens would take longer than a batch may sleep."""

    def __init__(self, wait):
        super().__init__(f"send rate limit: next token in {wait:.0f} s")
        self.wait = wait


def parse_domain_rates(text):
    rates = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        domain, _, rate = item.partition("=")
        try:
            rates[domain.strip().lower()] = float(rate)
        except ValueError:
            raise ImproperlyConfigured(
                f"SEND_RATE_PER_DOMAIN: {item!r} is not domain=messages_per_second"
            ) from None
    return rates


def warmup_quota(today):
    """Mails allowed today by the warm-up schedule, or None once it is over."""
    if not (settings.SEND_WARMUP_START and settings.SEND_WARMUP_DAILY):
        return None
    try:
        start = datetime.date.fromisoformat(settings.SEND_WARMUP_START)
        steps = [int(step) for step in settings.SEND_WARMUP_DAILY.split(",")]
    except ValueError:
        raise ImproperlyConfigured(
            "SEND_WARMUP_START must be YYYY-MM-DD and SEND_WARMUP_DAILY numbers like 50,100"
        ) from None
    day = (today - start).days
    if day < 0:
        return steps[0]
    return steps[day] if day < len(steps) else None


def buckets_for(transport, domain):
    prefix = f"{KEY_PREFIX}{transport}:"
    buckets = []
    if settings.SEND_RATE_PER_SECOND > 0:
        rate = settings.SEND_RATE_PER_SECOND
        buckets.append(Bucket(prefix + "second", rate, max(1.0, rate)))
    if settings.SEND_RATE_PER_HOUR > 0:
        hourly = settings.SEND_RATE_PER_HOUR
        buckets.append(Bucket(prefix + "hour", hourly / 3600, hourly))
    if settings.SEND_RATE_PER_DAY > 0:
        daily = settings.SEND_RATE_PER_DAY
        buckets.append(Bucket(prefix + "day", daily / 86400, daily))
    domain_rate = parse_domain_rates(settings.SEND_RATE_PER_DOMAIN).get(domain.lower())
    if domain_rate:
        buckets.append(
            Bucket(f"{prefix}domain:{domain.lower()}", domain_rate, max(1.0, domain_rate))
        )
    today = datetime.datetime.now(datetime.UTC).date()
    quota = warmup_quota(today)
    if quota is not None:
        buckets.append(Bucket(f"{prefix}warmup:{today.isoformat()}", 0, quota))
    return buckets


@cache
def redis_script():
    client = redis.Redis.from_url(settings.REDIS_URL)
    return client.register_script(TAKE_SCRIPT)


def take_in_redis(buckets, count):
    keys = [bucket.key for bucket in buckets]
    args = [count]
    for bucket in buckets:
        args += [bucket.rate, bucket.capacity]
    return float(redis_script()(keys=keys, args=args))


def take_in_file(buckets, count):
    """The same algorithm as TAKE_SCRIPT, for the embedded mode, under a file lock."""
    path = settings.VAR_DIR / "ratelimit.json"
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        state = json.loads(handle.read() or "{}")
        now = time.time()
        levels, wait = [], 0.0
        for bucket in buckets:
            tokens, at = state.get(bucket.key, (bucket.capacity, now))
            tokens = min(bucket.capacity, tokens + max(0.0, now - at) * bucket.rate)
            levels.append(tokens)
            if tokens < count:
                if bucket.rate == 0:
                    return UNTIL_WINDOW_END
                wait = max(wait, (count - tokens) / bucket.rate)
        if wait > 0:
            return wait
        for bucket, tokens in zip(buckets, levels, strict=True):
            state[bucket.key] = (tokens - count, now)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(state))
    return 0.0


def seconds_to_midnight_utc():
    now = datetime.datetime.now(datetime.UTC)
    tomorrow = (now + datetime.timedelta(days=1)).replace(hour=0, minute=0, second=0)
    return (tomorrow - now).total_seconds()


def acquire(*, transport, domain="", count=1, max_wait=10.0):
    """Take `count` tokens, sleeping while they refill; RateLimited if that takes too long."""
    buckets = buckets_for(transport, domain)
    if not buckets:
        return
    step_max = max(1, int(min(bucket.capacity for bucket in buckets)))
    take = take_in_redis if settings.REDIS_URL else take_in_file
    remaining, waited = count, 0.0
    while remaining > 0:
        step = min(remaining, step_max)
        wait = take(buckets, step)
        if wait == UNTIL_WINDOW_END:
            raise RateLimited(seconds_to_midnight_utc())
        if wait == 0:
            remaining -= step
            continue
        if waited + wait > max_wait:
            raise RateLimited(wait)
        time.sleep(wait)
        waited += wait


def retry_after_seconds(response):
    """The wait a 429 or 503 answer asks for in Retry-After (seconds or an HTTP date),
    capped at MAX_RETRY_AFTER_SECONDS; 0 when it asks for none."""
    if getattr(response, "status_code", None) not in (429, 503):
        return 0.0
    value = (response.headers.get("Retry-After") or "").strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
            seconds = (when - datetime.datetime.now(datetime.UTC)).total_seconds()
        except (TypeError, ValueError):  # no date, or one without a time zone
            return 0.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)
