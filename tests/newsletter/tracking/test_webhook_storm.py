"""A webhook storm: one genuine event posted 1,000 times at once is applied exactly once."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.core.cache import cache

from newsletter.models import Delivery
from subscribers.models import Event, Subscription, Suppression
from tests.newsletter.tracking.webhook_helpers import (
    URL,
    basic_auth,
    payload,
    post,
    snapshot,
)

POSTS = 1000
CLIENTS = 8  # concurrent connections; each server thread holds a database connection


@pytest.mark.django_db(transaction=True)
def test_one_event_posted_a_thousand_times_at_once_is_applied_once(live_server, delivery):
    body = json.dumps(payload("postmark-bounce.json", delivery))
    headers = {"Authorization": basic_auth(), "Content-Type": "application/json"}

    def send(_):
        with requests.Session() as session:
            return session.post(live_server.url + URL, data=body, headers=headers, timeout=60)

    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = [response.status_code for response in pool.map(send, range(POSTS))]
    elapsed = time.monotonic() - started
    assert statuses == [200] * POSTS, sorted(set(statuses))
    assert Event.objects.filter(kind=Event.Kind.BOUNCED).count() == 1
    assert Suppression.objects.count() == 1
    assert Subscription.objects.get(subscriber=delivery.subscriber).status == "bounced"
    assert Delivery.objects.get(pk=delivery.pk).status == "failed"
    print(f"{POSTS} posts over {CLIENTS} connections in {elapsed:.1f} s")


@pytest.mark.django_db
def test_the_event_is_still_known_after_the_cache_is_emptied(client, delivery):
    data = payload("postmark-bounce.json", delivery)
    assert post(client, data).status_code == 200
    after_first = snapshot()
    cache.clear()  # a flushed Redis forgets every key the old dedupe kept
    Subscription.objects.filter(subscriber=delivery.subscriber).update(status="confirmed")
    after_first["subscriptions"] = snapshot()["subscriptions"]
    assert post(client, data).status_code == 200
    assert snapshot() == after_first
