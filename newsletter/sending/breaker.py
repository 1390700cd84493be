"""The circuit breaker shared by every worker: pauses a transport after many transient
errors in a row, and lets one probe message find out when it answers again.

closed → open (after SEND_BREAKER_THRESHOLD consecutive transient errors; no one sends for
a cool-down that doubles with each trip, up to a cap) → half-open (one worker sends one
probe message) → closed again when the probe goes through.

Every change is one atomic step, because many workers count at once: a Lua script on a
Redis hash, or the same steps under an exclusive lock on a file in the embedded mode (no
Redis). A counter that is created, then incremented in a second call can vanish in between
(another worker's success deletes it), and a read-modify-write loses counts.
"""

import contextlib
import fcntl
import json
import time
from functools import cache

import redis
from django.conf import settings

KEY_TTL_SECONDS = 86400  # a breaker nobody touched for a day is forgotten
PROBE_SECONDS = 60  # a probe whose worker died frees its place after this
# The cool-down doubles with each trip up to this (or the configured cool-down, if that is
# longer): a server that is back is used again within about a minute.
MAX_COOL_DOWN_SECONDS = 60

# KEYS: the breaker's hash. ARGV: errors, threshold, now, cool-down of this trip if it
# trips (by trip number: the caller passes the base and the cap). Returns failures,
# whether this call opened it, and open_until (strings: Lua numbers are truncated).
RECORD_SCRIPT = """
local failures = redis.call('HINCRBY', KEYS[1], 'failures', ARGV[1])
local now = tonumber(ARGV[3])
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
local opened = 0
if failures >= tonumber(ARGV[2]) and open_until <= now then
  local trips = redis.call('HINCRBY', KEYS[1], 'trips', 1)
  local cool_down = math.min(tonumber(ARGV[4]) * 2 ^ (trips - 1), tonumber(ARGV[5]))
  open_until = now + cool_down
  redis.call('HSET', KEYS[1], 'open_until', tostring(open_until))
  redis.call('HDEL', KEYS[1], 'probe_until')
  opened = 1
end
redis.call('EXPIRE', KEYS[1], ARGV[6])
return {tostring(failures), tostring(opened), tostring(open_until)}
"""

# KEYS: the breaker's hash. ARGV: now, probe seconds. Returns 1 for the one probe.
PROBE_SCRIPT = """
local now = tonumber(ARGV[1])
if tonumber(redis.call('HGET', KEYS[1], 'probe_until') or '0') > now then return 0 end
redis.call('HSET', KEYS[1], 'probe_until', tostring(now + tonumber(ARGV[2])))
return 1
"""


# KEYS: the hold's key. ARGV: hold until, seconds it lives. Only ever lengthens a hold.
HOLD_SCRIPT = """
local held = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > held then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
"""


def max_cool_down():
    return max(settings.SEND_BREAKER_COOLDOWN_SECONDS, MAX_COOL_DOWN_SECONDS)


def cool_down_seconds(trips):
    """How long the breaker stays open after its `trips`-th trip in a row."""
    base = settings.SEND_BREAKER_COOLDOWN_SECONDS
    return min(base * 2 ** min(trips - 1, 16), max_cool_down())


@cache
def redis_client(url):
    return redis.Redis.from_url(url)


class RedisStore:
    """One hash per transport: failures, trips, open_until, probe_until."""

    def __init__(self, key):
        self.key = key
        self.client = redis_client(settings.REDIS_URL)

    def read(self):
        """(failures, open until); a provider's hold counts as open. One round trip."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hmget(self.key, "failures", "open_until")
        pipe.get(self.key + ":hold")
        (failures, open_until), held = pipe.execute()
        return int(failures or 0), max(float(open_until or 0), float(held or 0))

    def hold(self, until):
        # Apart from the counts: a success (which clears them) must not end the hold.
        script = self.client.register_script(HOLD_SCRIPT)
        script(keys=[self.key + ":hold"], args=[until, int(until - time.time()) + 60])

    def record(self, count, now):
        script = self.client.register_script(RECORD_SCRIPT)
        args = [count, settings.SEND_BREAKER_THRESHOLD, now]
        args += [settings.SEND_BREAKER_COOLDOWN_SECONDS, max_cool_down()]
        failures, opened, open_until = script(keys=[self.key], args=[*args, KEY_TTL_SECONDS])
        return int(failures), opened == b"1", float(open_until)

    def take_probe(self, now):
        script = self.client.register_script(PROBE_SCRIPT)
        return script(keys=[self.key], args=[now, PROBE_SECONDS]) == 1

    def clear(self):
        self.client.delete(self.key)


class FileStore:
    """The same steps for the embedded mode, in one JSON file under an exclusive lock."""

    def __init__(self, key):
        self.key = key
        self.path = settings.VAR_DIR / "breaker.json"

    @contextlib.contextmanager
    def locked(self, write):
        with open(self.path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX if write else fcntl.LOCK_SH)
            handle.seek(0)
            states = json.loads(handle.read() or "{}")
            state = states.get(self.key, {})
            if state.get("expires_at", 0) < time.time():
                state = {}
            yield state
            if write:
                state["expires_at"] = time.time() + KEY_TTL_SECONDS
                states[self.key] = state
                handle.seek(0)
                handle.truncate()
                handle.write(json.dumps(states))

    def read(self):
        with self.locked(write=False) as state:
            open_until = max(state.get("open_until", 0.0), state.get("hold_until", 0.0))
            return state.get("failures", 0), open_until

    def hold(self, until):
        with self.locked(write=True) as state:
            state["hold_until"] = max(until, state.get("hold_until", 0.0))

    def record(self, count, now):
        with self.locked(write=True) as state:
            state["failures"] = failures = state.get("failures", 0) + count
            open_until = state.get("open_until", 0.0)
            opened = failures >= settings.SEND_BREAKER_THRESHOLD and open_until <= now
            if opened:
                state["trips"] = state.get("trips", 0) + 1
                state["open_until"] = open_until = now + cool_down_seconds(state["trips"])
                state.pop("probe_until", None)
            return failures, opened, open_until

    def take_probe(self, now):
        with self.locked(write=True) as state:
            if state.get("probe_until", 0) > now:
                return False
            state["probe_until"] = now + PROBE_SECONDS
            return True

    def clear(self):
        with self.locked(write=True) as state:
            held = state.get("hold_until")
            state.clear()
            if held:
                state["hold_until"] = held  # a success does not end a provider's hold


class CircuitBreaker:
    """The breaker of one transport, as one worker sees it (state lives in the store)."""

    CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"

    def __init__(self, transport):
        self.prefix = f"send:breaker:{transport}:"
        self.store = (RedisStore if settings.REDIS_URL else FileStore)(self.prefix + "state")
        # Whether errors may be on record; spares a store write per successful message.
        self.maybe_failing = True
        self.tripped = False  # this worker's own errors opened the breaker

    def open_until(self):
        return self.store.read()[1]

    def state(self):
        failures, open_until = self.store.read()
        if open_until > time.time():
            return self.OPEN
        self.maybe_failing = failures > 0
        if failures >= settings.SEND_BREAKER_THRESHOLD:
            return self.HALF_OPEN
        return self.CLOSED

    def record_success(self):
        if not self.maybe_failing:
            return
        self.maybe_failing = False
        self.store.clear()

    def record_transient(self, count=1):
        """Count `count` transient errors; opens the breaker at the threshold unless it is
        open already (errors of mails that were in flight do not lengthen the cool-down)."""
        self.maybe_failing = True
        _failures, opened, _open_until = self.store.record(count, time.time())
        self.tripped = self.tripped or opened

    def hold(self, seconds):
        """No worker sends through this transport for `seconds` (the provider asked for
        it with Retry-After). Not a trip: the cool-down does not double for it."""
        self.store.hold(time.time() + seconds)
        self.tripped = True  # this worker stops at once; the others at their next look

    def take_probe(self):
        """True for the one worker allowed to send the probe message."""
        return self.store.take_probe(time.time())

    def status(self):
        failures, open_until = self.store.read()
        state = self.OPEN if open_until > time.time() else self.CLOSED
        if state == self.CLOSED and failures >= settings.SEND_BREAKER_THRESHOLD:
            state = self.HALF_OPEN
        return {"state": state, "consecutive_errors": failures, "open_until": open_until or None}
