"""Django's Redis cache backend, with one redis-py client per connection pool.

Django builds a new redis.Redis for every cache call, and redis-py fills its response
callback tables anew each time, which costs as much as the round trip to Redis itself
(docs/performance.md, "Archive"), on every rate-limit check and every cached page. A
redis.Redis holds no connection of its own (it borrows from the pool per command) and is
thread-safe, so one per pool is enough; the pool itself reconnects after a fork.
"""

from django.core.cache.backends import redis


class ReusedClientRedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
