"""Celery tasks of the sending engine: load by id, call the service, nothing else.

The database ledger, not the broker, is the source of truth: a lost task message only
delays a send until the sweeper (`newsletter.sweep_deliveries`, every 30 s) restarts it:
a lane's hold in the cache outlives a dead worker by at most lanes.LANE_HOLD_SECONDS.
"""

from celery import shared_task

from newsletter import sending
from newsletter.models import Issue
from newsletter.sending import dispatch, lanes


@shared_task(name="newsletter.send_issue")
def send_issue_task(*, issue_id):
    """Snapshot the audience of an issue and start its lanes."""
    try:
        return sending.start_send(issue=Issue.objects.get(pk=issue_id))
    except (Issue.DoesNotExist, sending.SendError):
        return 0


@shared_task(name="newsletter.send_batch", soft_time_limit=240, time_limit=300)
def send_batch_task(*, issue_id, lane, token):
    """One step of a lane; the chain goes on with a fresh task while work is claimable."""
    result = dispatch.run_lane(issue_id=issue_id, lane=lane, token=token)
    if result.keep_going:
        send_batch_task.delay(issue_id=issue_id, lane=lane, token=token)


@shared_task(name="newsletter.wake_issue")
def wake_issue_task(*, issue_id):
    """Restart the lanes of an issue when retries or expired leases fall due."""
    return lanes.ensure_lanes(issue_id=issue_id)


@shared_task(name="newsletter.send_test", soft_time_limit=60, time_limit=90)
def send_test_task(*, issue_id, addresses):
    """Send a test of the issue to a few addresses (priority queue)."""
    return sending.send_test(issue=Issue.objects.get(pk=issue_id), addresses=addresses)


@shared_task(name="newsletter.send_due_issues")
def send_due_issues_task():
    """Start scheduled issues whose time has come (beat, every minute)."""
    return sending.send_due_issues()


@shared_task(name="newsletter.sweep_deliveries")
def sweep_deliveries_task():
    """Reset stuck deliveries and restart lost lanes (beat, every 30 s)."""
    return sending.sweep_deliveries()
