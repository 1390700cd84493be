"""Fixed-window counters in the Django cache (Redis in production) for public endpoints."""

import hashlib

from django.core.cache import cache


def _key(scope, ident):
    # Hash the identifier so raw addresses and IPs never appear as cache keys.
    digest = hashlib.sha256(str(ident).encode()).hexdigest()[:32]
    return f"rl:{scope}:{digest}"


def allow(scope, ident, *, limit, window):
    """Count one hit; True while the window's count is within `limit` (0 means no limit)."""
    if limit <= 0:
        return True
    key = _key(scope, ident)
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: start a new window
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= limit


def ip_allowed(ip):
    from django.conf import settings

    return allow("ip", ip, limit=settings.SIGNUP_RATE_PER_IP_PER_HOUR, window=3600)


def address_allowed(email):
    from django.conf import settings

    return allow("addr", email, limit=settings.SIGNUP_RATE_PER_ADDRESS_PER_DAY, window=86400)
