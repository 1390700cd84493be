"""A lane's hold in the shared cache lives only while a worker renews it."""

import time

import pytest
from django.core.cache import cache

from newsletter.sending import lanes
from tests.newsletter.sending.send_helpers import forget_send_state


@pytest.fixture(autouse=True)
def short_holds(monkeypatch):
    monkeypatch.setattr(lanes, "LANE_HOLD_SECONDS", 2)
    monkeypatch.setattr(lanes, "HEARTBEAT_SECONDS", 0.3)
    forget_send_state()
    yield
    forget_send_state()


def take(issue_id, lane, token):
    assert cache.add(lanes.lane_key(issue_id, lane), token, timeout=lanes.LANE_HOLD_SECONDS)


def test_a_working_lane_outlives_its_hold_time_while_its_worker_renews_it():
    take(9001, 0, "mine")
    lanes.heartbeat.hold(9001, 0, "mine")
    try:
        time.sleep(5)  # the first renewal may wait for the thread's current sleep (4 s)
        assert cache.get(lanes.lane_key(9001, 0)) == "mine"
    finally:
        lanes.heartbeat.drop(9001, 0)


def test_a_lane_nobody_renews_is_free_after_its_hold_time():
    take(9002, 1, "dead worker")
    time.sleep(2.5)
    assert cache.get(lanes.lane_key(9002, 1)) is None
    assert lanes.hold_lane(9002, 1, "sweeper's chain")  # a new chain takes it


def test_a_lane_taken_over_by_another_chain_is_not_renewed_for_the_old_one():
    take(9003, 2, "old")
    cache.set(lanes.lane_key(9003, 2), "new", timeout=lanes.LANE_HOLD_SECONDS)
    assert not lanes.hold_lane(9003, 2, "old")
    lanes.heartbeat.renew(lanes.lane_key(9003, 2), "old")
    time.sleep(2.5)
    assert cache.get(lanes.lane_key(9003, 2)) is None
