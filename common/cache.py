"""A Redis cache that lets the app keep working when Redis is down (issue 10).

Django's RedisCache raises redis.ConnectionError on every call when Redis cannot be reached; the cache is read
and bumped inside write actions (the on-time figures' version key on every order, batch and note change; the
work calendar for review deadlines), so a Redis outage turned entering an order or cancelling a note into a
server error. Here a cache that cannot be reached behaves as an empty one: reads miss (the caller computes
from the database), writes are skipped.

A skipped write may be an invalidation (the on-time version bump). So that no stale figure is served when
Redis comes back with its old contents, the process that skipped a write drops this cache's keys on its
first call that reaches Redis again, before answering anything from it.
"""

import logging

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

_UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        options = params.setdefault("OPTIONS", {})
        # Fail fast: a page must not wait on a dead cache.
        options.setdefault("socket_connect_timeout", 1)
        options.setdefault("socket_timeout", 1)
        super().__init__(server, params)
        self._missed_write = False

    def _call(self, name, default, *args, write: bool, **kwargs):
        try:
            if self._missed_write:
                self._drop_own_keys()
            return getattr(super(), name)(*args, **kwargs)
        except _UNREACHABLE as exc:
            if write:
                self._missed_write = True
            logger.warning("cache unreachable, %s skipped: %s", name, exc)
            return default

    def _drop_own_keys(self) -> None:
        client = self._cache.get_client(write=True)
        # Our keys only (KEY_PREFIX:version:key); the broker's keys in the same database are left alone.
        pattern = f"{self.key_prefix}:*:*"
        batch = []
        for key in client.scan_iter(match=pattern, count=500):
            batch.append(key)
            if len(batch) >= 500:
                client.delete(*batch)
                batch = []
        if batch:
            client.delete(*batch)
        if self._missed_write:
            logger.warning("cache reachable again: its keys were dropped (writes were skipped while it was down)")
        self._missed_write = False

    def get(self, key, default=None, version=None):
        return self._call("get", default, key, default, version, write=False)

    def get_many(self, keys, version=None):
        return self._call("get_many", {}, keys, version, write=False)

    def has_key(self, key, version=None):
        return self._call("has_key", False, key, version, write=False)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", False, key, value, timeout, version, write=True)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", None, key, value, timeout, version, write=True)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", [], data, timeout, version, write=True)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", False, key, timeout, version, write=True)

    def delete(self, key, version=None):
        return self._call("delete", False, key, version, write=True)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", None, keys, version, write=True)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", delta, key, delta, version, write=True)

    def clear(self):
        # Django's RedisCache.clear() is FLUSHDB, which would also empty the Celery broker sharing the database.
        try:
            self._drop_own_keys()
        except _UNREACHABLE as exc:
            self._missed_write = True
            logger.warning("cache unreachable, clear skipped: %s", exc)
            return False
        return True
