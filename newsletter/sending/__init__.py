"""The sending engine: a per-reader delivery ledger in the database, worked by Celery lanes.

How a send runs (see docs/sending.md for the guarantees):
1. start_send snapshots the audience into one Delivery row per reader (INSERT … SELECT)
   and marks the issue `sending`, in one transaction.
2. ensure_lanes starts SEND_LANES chains of `newsletter.send_batch` tasks. Each step
   (dispatch.py) claims a batch of rows straight from the database (FOR UPDATE SKIP
   LOCKED), marks them `sending`, sends them outside any transaction and records each
   outcome at once.
3. A lane ends when nothing is claimable. Retries and expired leases wake it up again;
   the sweeper restarts lanes the broker lost (flushed Redis, killed worker).
4. When no unfinished row is left, the issue becomes `sent`.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from newsletter.models import Delivery, Issue
from newsletter.sending import dispatch, emails, lanes, send_progress
from newsletter.sending.audience import snapshot_audience
from newsletter.sending.outcomes import SENT

logger = logging.getLogger(__name__)

ANALYZE_AFTER_ROWS = 10_000  # smaller snapshots leave the statistics to autovacuum


class SendError(Exception):
    """A send action that does not fit the issue's state; the message is for the author."""


# --- starting, pausing, resuming, cancelling -------------------------------------------
def start_send(*, issue):
    """Snapshot the audience and start sending; returns the number of recipients."""
    with transaction.atomic():
        issue = Issue.objects.select_for_update().get(pk=issue.pk)
        if issue.status not in Issue.SENDABLE:
            raise SendError(
                _("This issue is %(status)s and cannot be sent again.")
                % {"status": issue.get_status_display()}
            )
        now = timezone.now()
        count = snapshot_audience(issue=issue, now=now)
        Issue.objects.filter(pk=issue.pk).update(
            status=Issue.Status.SENDING, send_started_at=now, recipient_count=count
        )
        transaction.on_commit(lambda: lanes.ensure_lanes(issue_id=issue.pk))
    refresh_planner_statistics(count)
    logger.info("issue %s: sending to %s readers", issue.pk, count)
    return count


def refresh_planner_statistics(count):
    """ANALYZE the ledger after a large snapshot. Until autovacuum gets to it, PostgreSQL
    plans each claim for the few rows the table had before, and so reads and sorts all of
    the issue's unfinished rows per claim: a large send would slow down as it goes."""
    if connection.vendor == "postgresql" and count >= ANALYZE_AFTER_ROWS:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Delivery._meta.db_table}")


def schedule_send(*, issue, when):
    """Send the issue at `when` (the beat task `newsletter.send_due_issues` starts it)."""
    updated = Issue.objects.filter(pk=issue.pk, status__in=Issue.SENDABLE).update(
        status=Issue.Status.SCHEDULED, scheduled_at=when
    )
    if not updated:
        raise SendError(_("Only a draft can be scheduled."))


def pause_send(*, issue):
    """Workers stop within seconds and hand their claimed rows back."""
    if not Issue.objects.filter(pk=issue.pk, status__in=Issue.PAUSABLE).update(
        status=Issue.Status.PAUSED
    ):
        raise SendError(_("Only a send in progress can be paused."))


def resume_send(*, issue):
    with transaction.atomic():
        if not Issue.objects.filter(pk=issue.pk, status__in=Issue.RESUMABLE).update(
            status=Issue.Status.SENDING
        ):
            raise SendError(_("Only a paused send can be resumed."))
        transaction.on_commit(lambda: lanes.ensure_lanes(issue_id=issue.pk))


def cancel_send(*, issue):
    """Stop for good: unfinished deliveries become skipped; sent ones stay sent."""
    with transaction.atomic():
        if not Issue.objects.filter(pk=issue.pk, status__in=Issue.CANCELLABLE).update(
            status=Issue.Status.CANCELLED
        ):
            raise SendError(_("Only a scheduled, sending or paused issue can be cancelled."))
        Delivery.objects.filter(issue_id=issue.pk).unfinished().update(
            status=Delivery.Status.SKIPPED, error=_("cancelled"), next_attempt_at=None
        )


def retry_failed(*, issue):
    """Queue every failed delivery of the issue again; returns how many."""
    with transaction.atomic():
        issue = Issue.objects.select_for_update().get(pk=issue.pk)
        if issue.status not in Issue.RETRYABLE:
            raise SendError(_("Only a sent, sending or paused issue has failures to retry."))
        count = Delivery.objects.filter(issue=issue, status=Delivery.Status.FAILED).update(
            status=Delivery.Status.QUEUED, attempts=0, error="", next_attempt_at=None
        )
        if count and issue.status == Issue.Status.SENT:
            Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.SENDING)
        if count:
            transaction.on_commit(lambda: lanes.ensure_lanes(issue_id=issue.pk))
    return count


def send_test(*, issue, addresses):
    """Send the issue to each address now, marked as a test; no ledger rows. Returns errors."""
    issue = Issue.objects.select_related("newsletter").get(pk=issue.pk)
    messages = [
        emails.build_message(
            issue,
            emails.reader_for_test_send(issue, address),
            subject_prefix=emails.subject_prefix_for_test_send(),
        )
        for address in addresses
    ]
    errors = {}
    for message in messages:
        outcome = dispatch.send_messages([message])[0]
        if outcome.status != SENT:
            errors[message.envelope_recipient] = outcome.error
    return errors


def send_due_issues():
    """Start every scheduled issue whose time has come; returns how many started."""
    started = 0
    for issue in Issue.objects.due():
        try:
            start_send(issue=issue)
            started += 1
        except SendError:
            continue  # another beat run or an author got there first
    return started


# --- the sweeper ----------------------------------------------------------------------
def sweep_deliveries():
    """Put back rows stuck past their lease and restart lanes the broker lost."""
    lease_expired = timezone.now() - timedelta(seconds=settings.SEND_LEASE_SECONDS)
    reset = Delivery.objects.filter(
        status=Delivery.Status.SENDING, claimed_at__lt=lease_expired
    ).update(status=Delivery.Status.RETRYING, next_attempt_at=timezone.now())
    restarted = 0
    for issue_id in Issue.objects.filter(status=Issue.Status.SENDING).values_list("pk", flat=True):
        restarted += lanes.ensure_lanes(issue_id=issue_id)
    return {"reset": reset, "lanes_started": restarted}


# --- progress for the admin -----------------------------------------------------------
def progress(*, issue):
    """Counts, rate, time left, errors and why the send waits (send_progress.py)."""
    return send_progress.progress(issue=issue)
