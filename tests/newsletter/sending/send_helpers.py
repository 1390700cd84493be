"""Helpers shared by the sending tests (not a test module)."""

from django.conf import settings
from django.core.cache import cache

from newsletter.models import Delivery
from newsletter.sending import dispatch, emails


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


def reader_for(delivery, subscription):
    """The Reader the engine loads for this delivery (as ledger.load_readers builds it)."""
    subscriber = delivery.subscriber
    return emails.reader_from_row(
        delivery_id=delivery.pk,
        subscriber_id=subscriber.pk,
        email=subscriber.email,
        name=subscriber.name,
        custom_fields=subscriber.custom_fields,
        subscriber_token=subscriber.token,
        subscription_token=subscription.token,
    )
