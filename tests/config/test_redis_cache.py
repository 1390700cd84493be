"""The Redis cache backend reuses one redis-py client instead of building one per call."""

import os

import pytest
from django.core.cache import cache, caches

pytestmark = pytest.mark.skipif(
    type(caches["default"]).__module__ != "config.redis_cache", reason="runs on Redis only"
)


def test_every_call_shares_one_client_and_still_round_trips():
    cache.set("redis-cache-test:a", {"value": 1}, 30)
    cache.set("redis-cache-test:b", 2, 30)

    found = cache.get_many(["redis-cache-test:a", "redis-cache-test:b", "redis-cache-test:c"])

    assert found == {"redis-cache-test:a": {"value": 1}, "redis-cache-test:b": 2}
    client = cache._cache.get_client()
    assert client is cache._cache.get_client(write=True)
    assert cache.add("redis-cache-test:a", "other", 30) is False
    assert cache.incr("redis-cache-test:b") == 3
    cache.delete_many(["redis-cache-test:a", "redis-cache-test:b"])
    assert cache.get("redis-cache-test:a") is None


def test_a_forked_process_gets_its_own_connection():
    cache.set("redis-cache-test:fork", "before", 30)
    pid = os.fork()
    if pid == 0:  # the child: the shared client must not reuse the parent's socket
        ok = cache.get("redis-cache-test:fork") == "before"
        cache.set("redis-cache-test:fork", "child", 30)
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert cache.get("redis-cache-test:fork") == "child"
