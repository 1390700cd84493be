"""Helpers shared by the sending tests (not a test module)."""

from django.conf import settings
from django.core.cache import cache

from newsletter.models import Delivery
from newsletter.sending import dispatch


def drain(issue, rounds=200):
    """Work the ledger in this process, the way a lane does, until nothing is claimable."""
    for _ in range(rounds):
        result = dispatch.lane_step(issue.pk)
        if not result.keep_going:
            return result
    raise AssertionError("the ledger did not drain")


def statuses(issue):
    return dict(Delivery.objects.filter(issue=issue).values_list("subscriber__email", "status"))


def forget_send_state():
    """Drop lane, wake-up and breaker keys: the test database reuses issue ids (SQLite)."""
    cache.clear()  # on Redis this empties the test's Redis database, breakers included
    (settings.VAR_DIR / "breaker.json").unlink(missing_ok=True)
