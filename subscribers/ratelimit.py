"""Fixed-window counters in the Django cache (Redis in production) for public endpoints.

Windows are aligned to the clock (an hour's window starts on the hour), so a refused
request can be told exactly when the next window opens.
"""

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache

HOUR = 3600
DAY = 86400


def _key(scope, ident, window_start):
    # Hash the identifier so raw addresses and IPs never appear as cache keys.
    digest = hashlib.sha256(str(ident).encode()).hexdigest()[:32]
    return f"rl:{scope}:{digest}:{window_start}"


def wait_after_hit(scope, ident, *, limit, window, now=None):
    """Count one hit; 0 while within `limit` (0 means none), else seconds until allowed."""
    if limit <= 0:
        return 0
    now = time.time() if now is None else now
    window_start = int(now // window) * window
    key = _key(scope, ident, window_start)
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: start a new window
        cache.set(key, 1, timeout=window)
        count = 1
    if count <= limit:
        return 0
    return max(1, math.ceil(window_start + window - now))


def allow(scope, ident, *, limit, window):
    """Count one hit; True while the window's count is within `limit` (0 means no limit)."""
    return wait_after_hit(scope, ident, limit=limit, window=window) == 0


def signup_wait(ip):
    """A real signup (a valid form from a person): one of the IP's hourly signups."""
    return wait_after_hit("ip", ip, limit=settings.SIGNUP_RATE_PER_IP_PER_HOUR, window=HOUR)


def invalid_attempt_wait(ip):
    """A form with errors or a bot's: counted apart, so that typos and bots in a room
    that shares one address (a talk, a school) do not use up the real signups' budget."""
    limit = settings.SIGNUP_INVALID_PER_IP_PER_HOUR
    return wait_after_hit("ip-invalid", ip, limit=limit, window=HOUR)


def address_allowed(email):
    return allow("addr", email, limit=settings.SIGNUP_RATE_PER_ADDRESS_PER_DAY, window=DAY)
