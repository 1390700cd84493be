"""The sending engine: a per-reader delivery ledger in the database, worked by Celery lanes.

How a send runs (see docs/sending.md for the guarantees):
1. start_send snapshots the audience into one Delivery row per reader (INSERT … SELECT)
   and marks the issue `sending`, in one transaction.
2. ensure_lanes starts SEND_LANES chains of `newsletter.send_batch` tasks. Each step
   claims a batch of rows straight from the database (FOR UPDATE SKIP LOCKED), marks them
   `sending`, sends them outside any transaction and records each outcome at once.
3. A lane ends when nothing is claimable. Retries and expired leases wake it up again;
   the sweeper restarts lanes the broker lost (flushed Redis, killed worker).
4. When no unfinished row is left, the issue becomes `sent`.
"""

import contextlib
import json
import logging
import random
import time
from collections import deque
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from newsletter import backends, batching, emails, lanes, send_progress, wire
from newsletter.breaker import CircuitBreaker
from newsletter.models import Delivery, Issue
from newsletter.ratelimit import RateLimited, acquire
from subscribers.models import Subscriber, Subscription, Suppression
from subscribers.suppression import email_hash

logger = logging.getLogger(__name__)

STATUS_CHECK_SECONDS = 0.5  # how often a sending worker looks for pause/cancel
# Claimed readers are checked again (unsubscribed? suppressed?) right before a provider
# call once their last check is older than this: every call on a slow or rate-limited
# send, at most twice a second on fast SMTP (where a check per mail would cost
# throughput: two queries beside the one UPDATE per mail).
RECHECK_SECONDS = 0.5
ANALYZE_AFTER_ROWS = 10_000  # smaller snapshots leave the statistics to autovacuum
AFTER_FAULT_SECONDS = 10  # a step that failed on the database or cache: try again then


class SendError(Exception):
    """A send action that does not fit the issue's state; the message is for the author."""


# --- starting, pausing, resuming, cancelling -------------------------------------------
def start_send(*, issue):
    """Snapshot the audience and start sending; returns the number of recipients."""
    with transaction.atomic():
        issue = Issue.objects.select_for_update().get(pk=issue.pk)
        if issue.status not in (Issue.Status.DRAFT, Issue.Status.SCHEDULED):
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
    the issue's unfinished rows per claim of 500: a million-reader send slowed down the
    further it got."""
    if connection.vendor == "postgresql" and count >= ANALYZE_AFTER_ROWS:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Delivery._meta.db_table}")


def snapshot_audience(*, issue, now):
    """One queued Delivery per confirmed reader, in a single INSERT … SELECT."""
    delivery = Delivery._meta.db_table
    subscription = Subscription._meta.db_table
    sql = (
        f"INSERT INTO {delivery} (issue_id, subscriber_id, status, attempts, "  # noqa: S608
        "provider_message_id, provider, error, updated_at) "
        f"SELECT %s, s.subscriber_id, %s, 0, '', '', '', %s FROM {subscription} s "
        "WHERE s.newsletter_id = %s AND s.status = %s "
        "ON CONFLICT (issue_id, subscriber_id) DO NOTHING"
    )
    params = [
        issue.pk,
        Delivery.Status.QUEUED,
        connection.ops.adapt_datetimefield_value(now),
        issue.newsletter_id,
        Subscription.Status.CONFIRMED,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    return Delivery.objects.filter(issue=issue).count()


def schedule_send(*, issue, when):
    """Send the issue at `when` (the beat task `newsletter.send_due_issues` starts it)."""
    updated = Issue.objects.filter(
        pk=issue.pk, status__in=(Issue.Status.DRAFT, Issue.Status.SCHEDULED)
    ).update(status=Issue.Status.SCHEDULED, scheduled_at=when)
    if not updated:
        raise SendError(_("Only a draft can be scheduled."))


def pause_send(*, issue):
    """Workers stop within seconds and hand their claimed rows back."""
    if not Issue.objects.filter(pk=issue.pk, status=Issue.Status.SENDING).update(
        status=Issue.Status.PAUSED
    ):
        raise SendError(_("Only a send in progress can be paused."))


def resume_send(*, issue):
    with transaction.atomic():
        if not Issue.objects.filter(pk=issue.pk, status=Issue.Status.PAUSED).update(
            status=Issue.Status.SENDING
        ):
            raise SendError(_("Only a paused send can be resumed."))
        transaction.on_commit(lambda: lanes.ensure_lanes(issue_id=issue.pk))


def cancel_send(*, issue):
    """Stop for good: unfinished deliveries become skipped; sent ones stay sent."""
    cancellable = (Issue.Status.SENDING, Issue.Status.PAUSED, Issue.Status.SCHEDULED)
    with transaction.atomic():
        if not Issue.objects.filter(pk=issue.pk, status__in=cancellable).update(
            status=Issue.Status.CANCELLED
        ):
            raise SendError(_("Only a scheduled, sending or paused issue can be cancelled."))
        Delivery.objects.filter(issue_id=issue.pk).unfinished().update(
            status=Delivery.Status.SKIPPED, error=_("cancelled"), next_attempt_at=None
        )


def retry_failed(*, issue):
    """Queue every failed delivery of the issue again; returns how many."""
    allowed = (Issue.Status.SENT, Issue.Status.SENDING, Issue.Status.PAUSED)
    with transaction.atomic():
        issue = Issue.objects.select_for_update().get(pk=issue.pk)
        if issue.status not in allowed:
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
        outcome = backends.send_messages([message])[0]
        if outcome.status != backends.SENT:
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


# --- lanes: one step of a chain (newsletter/lanes.py holds and starts them) ------------
@dataclass
class StepResult:
    keep_going: bool
    wake_in: float | None = None


def run_lane(*, issue_id, lane, token):
    """One step of a lane: claim a batch, send it, and say whether the chain goes on."""
    if not lanes.hold_lane(issue_id, lane, token):
        return StepResult(keep_going=False)
    lanes.heartbeat.hold(issue_id, lane, token)
    try:
        result = lane_step(issue_id)
    except BaseException:
        # The database or the cache failed mid-step: free the lane at once, so a wake-up
        # or the sweeper starts it again as soon as they answer.
        lanes.heartbeat.drop(issue_id, lane)
        with contextlib.suppress(Exception):
            lanes.release_lane(issue_id, lane, token)
            lanes.schedule_wakeup(issue_id=issue_id, delay=AFTER_FAULT_SECONDS)
        raise
    lanes.heartbeat.drop(issue_id, lane)
    if not result.keep_going:
        lanes.release_lane(issue_id, lane, token)
        if result.wake_in is not None:
            lanes.schedule_wakeup(issue_id=issue_id, delay=result.wake_in)
    return result


def lane_step(issue_id):
    issue = Issue.objects.select_related("newsletter").get(pk=issue_id)
    if issue.status != Issue.Status.SENDING:
        return StepResult(keep_going=False)
    breaker = CircuitBreaker(backends.transport_name())
    state = breaker.state()
    if state == breaker.OPEN:
        return StepResult(keep_going=False, wake_in=breaker.open_until() - time.time())
    size = claim_size()
    if state == breaker.HALF_OPEN:
        if not breaker.take_probe():
            return StepResult(keep_going=False, wake_in=2.0)
        size = 1
    claimed = claim_readers(issue, size)
    if not claimed:
        return finish_or_wait(issue_id)
    result = send_claimed(issue=issue, claimed=claimed, breaker=breaker)
    if state == breaker.HALF_OPEN and breaker.state() == breaker.CLOSED:
        lanes.ensure_lanes(issue_id=issue_id)  # the provider answers again: full speed
    return result


def claim_size():
    """Rows per claim; small enough that a rate-limited batch ends well within its lease
    (else a live worker's rows would be claimed again and sent twice)."""
    size = max(batching.batch_size(), settings.SEND_CLAIM_SIZE)
    if settings.SEND_RATE_PER_SECOND > 0:
        per_lane = settings.SEND_RATE_PER_SECOND / max(1, settings.SEND_LANES)
        size = min(size, max(1, int(per_lane * settings.SEND_LEASE_SECONDS / 2)))
    return size


# --- the ledger: claim, send, record --------------------------------------------------
def claimable(issue_id, now):
    lease_expired = now - timedelta(seconds=settings.SEND_LEASE_SECONDS)
    return Delivery.objects.filter(issue_id=issue_id).filter(
        Q(status=Delivery.Status.QUEUED)
        | Q(status=Delivery.Status.RETRYING, next_attempt_at__lte=now)
        | Q(status=Delivery.Status.SENDING, claimed_at__lt=lease_expired)
    )


def claim_batch(*, issue_id, size):
    """Mark up to `size` due rows `sending` for this worker; other workers skip them."""
    now = timezone.now()
    with transaction.atomic():
        rows = claimable(issue_id, now).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        # On SQLite the IMMEDIATE transaction holds the write lock: claims are serial.
        ids = list(rows.values_list("id", flat=True)[:size])
        Delivery.objects.filter(id__in=ids).update(
            status=Delivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    return ids


def claim_readers(issue, size):
    """Claim up to `size` due rows and load their readers: load_readers' rows.

    On PostgreSQL one statement claims and joins (SKIP LOCKED, as claim_batch), instead of
    five round trips with the claimed ids sent back and forth."""
    if connection.vendor != "postgresql":
        ids = claim_batch(issue_id=issue.pk, size=size)
        return load_readers(issue, ids) if ids else []
    now = timezone.now()
    lease_expired = now - timedelta(seconds=settings.SEND_LEASE_SECONDS)
    status = Delivery.Status
    with connection.cursor() as cursor:
        cursor.execute(
            CLAIM_AND_LOAD,
            {
                "issue": issue.pk,
                "newsletter": issue.newsletter_id,
                "now": now,
                "lease_expired": lease_expired,
                "size": size,
                "queued": status.QUEUED,
                "retrying": status.RETRYING,
                "sending": status.SENDING,
            },
        )
        rows = cursor.fetchall()
    return readers_from_rows(rows)


# Table names from the models, values as parameters.
CLAIM_AND_LOAD = f"""
WITH picked AS (
    SELECT id FROM {Delivery._meta.db_table}
    WHERE issue_id = %(issue)s AND (
        status = %(queued)s
        OR (status = %(retrying)s AND next_attempt_at <= %(now)s)
        OR (status = %(sending)s AND claimed_at < %(lease_expired)s))
    ORDER BY id LIMIT %(size)s
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE {Delivery._meta.db_table} AS delivery
    SET status = %(sending)s, claimed_at = %(now)s, attempts = delivery.attempts + 1
    FROM picked WHERE delivery.id = picked.id
    RETURNING delivery.id, delivery.subscriber_id
)
SELECT claimed.id, subscriber.id, subscriber.email, subscriber.name,
       subscriber.custom_fields::text, subscriber.token, subscription.status, subscription.token
FROM claimed
JOIN {Subscriber._meta.db_table} AS subscriber ON subscriber.id = claimed.subscriber_id
LEFT JOIN {Subscription._meta.db_table} AS subscription
    ON subscription.subscriber_id = claimed.subscriber_id
    AND subscription.newsletter_id = %(newsletter)s
ORDER BY claimed.id
"""  # noqa: S608


def finish_or_wait(issue_id):
    """Nothing claimable: mark the issue sent, or wake up when the next row falls due."""
    with transaction.atomic():
        Issue.objects.select_for_update().filter(pk=issue_id).first()
        unfinished = Delivery.objects.filter(issue_id=issue_id).unfinished()
        if not unfinished.exists():
            Issue.objects.filter(pk=issue_id, status=Issue.Status.SENDING).update(
                status=Issue.Status.SENT, sent_at=timezone.now()
            )
            return StepResult(keep_going=False)
    due = unfinished.aggregate(
        retry=Min("next_attempt_at", filter=Q(status=Delivery.Status.RETRYING)),
        claimed=Min("claimed_at", filter=Q(status=Delivery.Status.SENDING)),
    )
    candidates = [due["retry"]]
    if due["claimed"]:
        candidates.append(due["claimed"] + timedelta(seconds=settings.SEND_LEASE_SECONDS))
    next_due = min(filter(None, candidates), default=timezone.now())
    return StepResult(keep_going=False, wake_in=(next_due - timezone.now()).total_seconds())


class IssueWatch:
    """Looks at the issue's status and the breaker at most every STATUS_CHECK_SECONDS."""

    def __init__(self, issue_id, breaker):
        self.issue_id = issue_id
        self.breaker = breaker
        self.checked_at = time.monotonic()
        self.stop_reason = None  # "status" or "breaker" once the batch must stop

    def must_stop(self):
        if time.monotonic() - self.checked_at < STATUS_CHECK_SECONDS:
            return False
        self.checked_at = time.monotonic()
        status = Issue.objects.filter(pk=self.issue_id).values_list("status", flat=True).first()
        if status != Issue.Status.SENDING:
            self.stop_reason = "status"
        elif self.breaker.state() == self.breaker.OPEN:
            self.stop_reason = "breaker"
        return self.stop_reason is not None


def load_readers(issue, ids):
    """(delivery id, reader, "") per claimed row still allowed to get mail, else
    (delivery id, None, skip reason).

    Plain column values, not model instances: building 500 Delivery, Subscriber and
    Subscription objects per claim cost more than the two queries themselves.
    """
    rows = list(
        Delivery.objects.filter(id__in=ids)
        .order_by("id")
        .values_list(
            "id",
            "subscriber_id",
            "subscriber__email",
            "subscriber__name",
            "subscriber__custom_fields",
            "subscriber__token",
        )
    )
    subscriptions = {
        subscriber_id: (status, token)
        for subscriber_id, status, token in Subscription.objects.filter(
            newsletter_id=issue.newsletter_id, subscriber_id__in=[row[1] for row in rows]
        ).values_list("subscriber_id", "status", "token")
    }
    return readers_from_rows([(*row, *subscriptions.get(row[1], (None, None))) for row in rows])


def readers_from_rows(rows):
    """load_readers' answer from (delivery id, subscriber id, email, name, custom fields,
    subscriber token, subscription status, subscription token) rows."""
    suppressed = suppressed_hashes(row[2] for row in rows)
    result = []
    for row in rows:
        delivery_id, subscriber_id, email, name, custom_fields, subscriber_token = row[:6]
        status, subscription_token = row[6:]
        reason = skip_reason(status, email_hash(email) in suppressed)
        if reason:
            result.append((delivery_id, None, reason))
            continue
        if isinstance(custom_fields, str):  # JSON as text from the raw claim
            custom_fields = json.loads(custom_fields)
        reader = emails.reader_from_row(
            delivery_id=delivery_id,
            subscriber_id=subscriber_id,
            email=email,
            name=name,
            custom_fields=custom_fields,
            subscriber_token=subscriber_token,
            subscription_token=subscription_token,
        )
        result.append((delivery_id, reader, ""))
    return result


def suppressed_hashes(addresses):
    """The suppression hashes among these addresses (one indexed query)."""
    hashes = {email_hash(address) for address in addresses}
    return set(
        Suppression.objects.filter(email_hash__in=hashes).values_list("email_hash", flat=True)
    )


def skip_reason(status, suppressed):
    """Why a reader with this subscription status must not get mail now ("" if they may)."""
    if status != Subscription.Status.CONFIRMED:
        return _("no longer subscribed (%s)") % (status or "gone")
    if suppressed:
        return _("address is suppressed")
    return ""


def refused_now(issue, readers):
    """{delivery id: reason} for readers unsubscribed, bounced, complained, erased or
    suppressed since they were loaded (two indexed queries for all of them)."""
    statuses = dict(
        Subscription.objects.filter(
            newsletter_id=issue.newsletter_id,
            subscriber_id__in=[reader.subscriber_id for reader in readers],
        ).values_list("subscriber_id", "status")
    )
    suppressed = suppressed_hashes(reader.email for reader in readers)
    refused = {}
    for reader in readers:
        status = statuses.get(reader.subscriber_id)
        reason = skip_reason(status, email_hash(reader.email) in suppressed)
        if reason:
            refused[reader.delivery_id] = reason
    return refused


def send_claimed(*, issue, claimed, breaker):
    """Send the claimed rows (claim_readers' answer) chunk by chunk; stop early on pause,
    cancel or outage."""
    watch = IssueWatch(issue.pk, breaker)
    pending = deque()
    for delivery_id, reader, reason in claimed:
        if reader is None:
            record_skip(delivery_id, reason)
        else:
            pending.append(reader)
    try:
        return send_pending(issue, pending, breaker, watch)
    except BaseException:
        # Rows that never went out go back at once instead of waiting for their lease;
        # the chunk that was on the wire stays claimed (it may have been sent).
        with contextlib.suppress(Exception):
            release([reader.delivery_id for reader in pending])
        raise


def send_pending(issue, pending, breaker, watch):
    """send_claimed's loop; `pending` (a deque of readers) shrinks as chunks go out."""
    transport = backends.transport_name()
    checked_at = time.monotonic()
    plan = batching.plan_for(issue)  # None: one call per reader
    # A chunk is sent, then recorded, before the next one goes out: its size bounds the
    # mails in flight (sent, not yet recorded) if this process is killed.
    chunk = plan.size if plan else backends.messages_at_once()
    while pending:
        # The breaker opened by this worker's own errors stops it at once.
        if breaker.tripped or watch.must_stop():
            release([reader.delivery_id for reader in pending])
            wake = breaker.open_until() - time.time()
            return StepResult(keep_going=False, wake_in=wake if wake > 0 else None)
        taken = [pending.popleft() for _ in range(min(chunk, len(pending)))]
        readers, limited = take_tokens(taken, transport)
        pending.extendleft(reversed(taken[len(readers) :]))  # no token: not sent now
        if readers and time.monotonic() - checked_at >= RECHECK_SECONDS:
            # Right before the call: whoever left since the claim is not mailed.
            readers = drop_refused(issue, readers, pending)
            checked_at = time.monotonic()
        if readers:
            send_chunk(issue, readers, breaker, transport, plan)
        if limited is not None:
            release([reader.delivery_id for reader in pending])
            send_progress.note_rate_limited(issue.pk, limited.wait)
            return StepResult(keep_going=False, wake_in=limited.wait)
    return StepResult(keep_going=True)


def take_tokens(readers, transport):
    """The readers the rate limiter lets go now (their tokens are spent: they are sent),
    and the RateLimited that stopped the rest, if any."""
    for index, reader in enumerate(readers):
        try:
            acquire(transport=transport, domain=reader.email.rpartition("@")[2])
        except RateLimited as limited:
            return readers[:index], limited
    return readers, None


def drop_refused(issue, readers, pending):
    """Check the chunk and the rest of the claim again; skip the refused, keep the rest
    (`pending` is trimmed in place: send_claimed hands back what is left in it)."""
    refused = refused_now(issue, [*readers, *pending])
    for delivery_id, reason in refused.items():
        record_skip(delivery_id, reason)
    kept = [reader for reader in pending if reader.delivery_id not in refused]
    pending.clear()
    pending.extend(kept)
    return [reader for reader in readers if reader.delivery_id not in refused]


def send_chunk(issue, readers, breaker, transport, plan=None):
    """Send readers (one API call for all of them with a batch plan), then record the
    outcomes before anything else is claimed or sent."""
    if plan is not None:
        outcomes = batching.send_batch(issue, plan, readers)
    else:
        outcomes = send_each(issue, readers)
    hold_for_retry_after(outcomes.values(), breaker)
    record_outcomes([(r.delivery_id, outcomes[r.delivery_id]) for r in readers], breaker, transport)


def send_each(issue, readers):
    """One message per reader; {delivery_id: Outcome} for every reader."""
    built, outcomes = [], {}
    over_smtp = backends.transport_name() == "smtp"
    for reader in readers:
        try:
            # Over SMTP most mails are filled into the issue's serialised skeleton.
            mail = wire.wire_mail(issue, reader) if over_smtp else None
            built.append(mail or emails.build_message(issue, reader))
        except Exception as error:  # a reader's data that cannot become a mail
            logger.exception("delivery %s: cannot build the message", reader.delivery_id)
            outcomes[reader.delivery_id] = backends.Outcome(
                backends.PERMANENT, error=f"build: {error}"[:500]
            )
    sendable = [r for r in readers if r.delivery_id not in outcomes]
    if built:
        # The network send happens here, outside any database transaction.
        for reader, outcome in zip(sendable, backends.send_messages(built), strict=True):
            outcomes[reader.delivery_id] = outcome
    return outcomes


def hold_for_retry_after(outcomes, breaker):
    """A provider that says when to come back (Retry-After on a 429 or 503) gets no call
    from any worker before then: the shared breaker holds every lane that long. Before
    the outcomes are recorded, so that the refused call's errors do not trip it too."""
    wait = max((outcome.retry_after for outcome in outcomes), default=0.0)
    if wait > 0:
        try:
            breaker.hold(wait)
        except Exception:  # as for the breaker's counts: a cache fault must not lose records
            logger.exception("circuit breaker: cannot hold for Retry-After %.0f s", wait)


def record_outcomes(outcomes, breaker, transport):
    """Write a chunk's outcomes ((delivery id, Outcome) pairs): all sent rows in one
    UPDATE (one statement per chunk instead of one per reader), errors row by row.

    1. The sent rows first, on their own: those mails are gone, and a failure in any later
       step must not lose that record (the lease would send them again).
    2. The errors, each row's retry or failure.
    3. The breaker's bookkeeping last, guarded: a shared-cache fault costs a count, not
       the batch.
    """
    sent = {i: o.provider_message_id[:255] for i, o in outcomes if o.status == backends.SENT}
    if sent:
        mark_sent(sent, transport)
    transient = 0
    for delivery_id, outcome in outcomes:
        if outcome.status != backends.SENT:
            record_error(delivery_id, outcome, transport)
            transient += outcome.status == backends.TRANSIENT
    try:
        note_in_breaker(breaker, transient=transient, sent=len(sent))
    except Exception:
        logger.exception("circuit breaker %s: cannot record outcomes", transport)


def note_in_breaker(breaker, *, transient, sent):
    """Errors first, then any success: the provider took some of the chunk, so it is up."""
    if transient and not breaker.tripped:
        # Once this worker opened it, the other mails that were in flight with the
        # tripping one are not counted again.
        breaker.record_transient(transient)
    if sent:
        breaker.record_success()


def mark_sent(message_ids, transport):
    """Mark rows sent ({delivery id: provider message id}) in one statement; a row sent
    already keeps its first record.

    Raw SQL because the ORM's equivalent (CASE WHEN per row) spends far longer building
    the expression than the database spends on the update. On PostgreSQL the rows travel
    as two arrays, so the statement's text is the same for any number of rows (psycopg
    parses it once, not once per chunk); elsewhere as a VALUES list (SQLite ≥ 3.33).
    """
    table = Delivery._meta.db_table
    if connection.vendor == "postgresql":
        rows = "SELECT * FROM unnest(%s::bigint[], %s::text[])"
        params = [list(message_ids), list(message_ids.values())]
    else:
        rows = "VALUES " + ", ".join(["(%s, %s)"] * len(message_ids))
        params = [value for pair in message_ids.items() for value in pair]
    sql = (
        f"WITH sent (delivery_id, message_id) AS ({rows}) "  # noqa: S608
        f"UPDATE {table} SET status = %s, sent_at = %s, provider_message_id = sent.message_id, "
        "provider = %s, error = '', next_attempt_at = NULL "
        f"FROM sent WHERE {table}.id = sent.delivery_id AND {table}.status <> %s"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params += [Delivery.Status.SENT, now, transport, Delivery.Status.SENT]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def record_error(delivery_id, outcome, transport):
    """A transient error retries with backoff (until SEND_MAX_ATTEMPTS), a permanent fails."""
    rows = Delivery.objects.filter(id=delivery_id, status=Delivery.Status.SENDING)
    attempts = rows.values_list("attempts", flat=True).first() or 0  # 0: cancelled meanwhile
    if outcome.status == backends.PERMANENT or attempts >= settings.SEND_MAX_ATTEMPTS:
        rows.update(status=Delivery.Status.FAILED, provider=transport, error=outcome.error)
        return
    rows.update(
        status=Delivery.Status.RETRYING,
        next_attempt_at=timezone.now() + timedelta(seconds=backoff_seconds(attempts)),
        provider=transport,
        error=outcome.error,
    )


def backoff_seconds(attempts):
    """Exponential backoff with jitter: base · 2^(n−1), capped, times 0.5–1.5."""
    delay = settings.SEND_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)
    return min(delay, settings.SEND_RETRY_MAX_SECONDS) * random.uniform(0.5, 1.5)


def record_skip(delivery_id, reason):
    Delivery.objects.filter(id=delivery_id, status=Delivery.Status.SENDING).update(
        status=Delivery.Status.SKIPPED, error=reason
    )


def release(ids):
    """Hand claimed but unsent rows back, without counting an attempt."""
    Delivery.objects.filter(id__in=ids, status=Delivery.Status.SENDING).update(
        status=Delivery.Status.QUEUED, claimed_at=None, attempts=F("attempts") - 1
    )


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
    """Counts, rate, time left, errors and why the send waits (newsletter/send_progress.py)."""
    return send_progress.progress(issue=issue)
