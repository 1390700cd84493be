"""Lanes: chains of `newsletter.send_batch` tasks, at most SEND_LANES per issue.

A lane is held by a key in the shared cache that names the chain working it. The key
lives LANE_HOLD_SECONDS and a heartbeat thread in the worker process renews it while a
step runs (through long SMTP rounds and rate-limit sleeps too), so the lane of a worker
that died (SIGKILL, lost machine) is free within LANE_HOLD_SECONDS and the sweeper, every
SWEEP_SECONDS, starts it again: a send stands still for at most about their sum.

Two chains on one lane (a key that expired under a live but stalled worker) are harmless:
claims skip each other's rows, so a lane only bounds parallelism, never correctness.
"""

import logging
import os
import threading
import uuid

from celery import current_app
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

SWEEP_SECONDS = 30  # the beat schedule's sweep-deliveries interval
LANE_HOLD_SECONDS = 15
HEARTBEAT_SECONDS = 4  # three renewals may fail before a live lane's hold runs out


def lane_key(issue_id, lane):
    return f"send:lane:{issue_id}:{lane}"


def ensure_lanes(*, issue_id):
    """Start every lane of the issue that is not running or queued already."""
    started = 0
    for lane in range(settings.SEND_LANES):
        token = uuid.uuid4().hex
        if cache.add(lane_key(issue_id, lane), token, timeout=LANE_HOLD_SECONDS):
            current_app.send_task(
                "newsletter.send_batch", kwargs={"issue_id": issue_id, "lane": lane, "token": token}
            )
            started += 1
    return started


def hold_lane(issue_id, lane, token):
    """True if this chain still owns its lane (a lane restarted by the sweeper wins)."""
    key = lane_key(issue_id, lane)
    cache.add(key, token, timeout=LANE_HOLD_SECONDS)  # expired or flushed: take it again
    if cache.get(key) != token:
        return False
    cache.touch(key, LANE_HOLD_SECONDS)
    return True


def release_lane(issue_id, lane, token):
    if cache.get(lane_key(issue_id, lane)) == token:
        cache.delete(lane_key(issue_id, lane))


def schedule_wakeup(*, issue_id, delay):
    """One delayed ensure_lanes per issue, for retries and leases that fall due later."""
    delay = max(0.5, min(delay, 60.0))
    if cache.add(f"send:wakeup:{issue_id}", 1, timeout=int(delay) + 1):
        current_app.send_task(
            "newsletter.wake_issue", kwargs={"issue_id": issue_id}, countdown=delay
        )


class Heartbeat:
    """One daemon thread per process that renews the hold of every lane a step works.

    One thread for the process, not one per step: each thread opens its own connection
    to the shared cache.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.held = {}  # lane key -> token
        self.pid = None

    def hold(self, issue_id, lane, token):
        with self.lock:
            self.held[lane_key(issue_id, lane)] = token
            if self.pid != os.getpid():  # first use in this (possibly forked) process
                self.pid = os.getpid()
                threading.Thread(target=self.run, name="lane-heartbeat", daemon=True).start()

    def drop(self, issue_id, lane):
        with self.lock:
            self.held.pop(lane_key(issue_id, lane), None)

    def run(self):
        stop = threading.Event()
        while not stop.wait(HEARTBEAT_SECONDS):
            with self.lock:
                held = list(self.held.items())
            for key, token in held:
                self.renew(key, token)

    def renew(self, key, token):
        try:
            if cache.get(key) == token:
                cache.touch(key, LANE_HOLD_SECONDS)
        except Exception:  # the cache is down: the hold runs out, the sweeper restarts it
            logger.warning("lane %s: cannot renew its hold", key, exc_info=True)


heartbeat = Heartbeat()
