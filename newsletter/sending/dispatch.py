"""One step of a lane: claim a batch of the ledger, send it chunk by chunk and record each
chunk's outcomes before the next goes out (the services in __init__.py start the lanes,
lanes.py holds them, ledger.py claims and records)."""

import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from newsletter.models import Delivery, Issue
from newsletter.sending import emails, lanes, ledger, outcomes, providers, send_progress
from newsletter.sending.breaker import CircuitBreaker
from newsletter.sending.ratelimit import RateLimited, acquire
from newsletter.sending.smtp import connection, wire
from newsletter.sending.transport import transport_name

logger = logging.getLogger(__name__)

STATUS_CHECK_SECONDS = 0.5  # how often a sending worker looks for pause/cancel
# Claimed readers are checked again (unsubscribed? suppressed?) right before a provider
# call once their last check is older than this: every call on a slow or rate-limited
# send, at most twice a second on fast SMTP (where a check per mail would cost
# throughput: two queries beside the one UPDATE per mail).
RECHECK_SECONDS = 0.5
AFTER_FAULT_SECONDS = 10  # a step that failed on the database or cache: try again then


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
    breaker = CircuitBreaker(transport_name())
    state = breaker.state()
    if state == breaker.OPEN:
        return StepResult(keep_going=False, wake_in=breaker.open_until() - time.time())
    size = claim_size()
    if state == breaker.HALF_OPEN:
        if not breaker.take_probe():
            return StepResult(keep_going=False, wake_in=2.0)
        size = 1
    claimed = ledger.claim_readers(issue, size)
    if not claimed:
        return finish_or_wait(issue_id)
    result = send_claimed(issue=issue, claimed=claimed, breaker=breaker)
    if state == breaker.HALF_OPEN and breaker.state() == breaker.CLOSED:
        lanes.ensure_lanes(issue_id=issue_id)  # the provider answers again: full speed
    return result


def claim_size():
    """Rows per claim; small enough that a rate-limited batch ends well within its lease
    (else a live worker's rows would be claimed again and sent twice)."""
    size = max(providers.batch_size(), settings.SEND_CLAIM_SIZE)
    if settings.SEND_RATE_PER_SECOND > 0:
        per_lane = settings.SEND_RATE_PER_SECOND / max(1, settings.SEND_LANES)
        size = min(size, max(1, int(per_lane * settings.SEND_LEASE_SECONDS / 2)))
    return size


# --- sending a claim ------------------------------------------------------------------
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


def send_claimed(*, issue, claimed, breaker):
    """Send the claimed rows (claim_readers' answer) chunk by chunk; stop early on pause,
    cancel or outage."""
    watch = IssueWatch(issue.pk, breaker)
    pending = deque()
    for delivery_id, reader, reason in claimed:
        if reader is None:
            ledger.record_skip(delivery_id, reason)
        else:
            pending.append(reader)
    try:
        return send_pending(issue, pending, breaker, watch)
    except BaseException:
        # Rows that never went out go back at once instead of waiting for their lease;
        # the chunk that was on the wire stays claimed (it may have been sent).
        with contextlib.suppress(Exception):
            ledger.release([reader.delivery_id for reader in pending])
        raise


def send_pending(issue, pending, breaker, watch):
    """send_claimed's loop; `pending` (a deque of readers) shrinks as chunks go out."""
    transport = transport_name()
    checked_at = time.monotonic()
    plan = providers.plan_for(issue)  # None: one call per reader
    # A chunk is sent, then recorded, before the next one goes out: its size bounds the
    # mails in flight (sent, not yet recorded) if this process is killed.
    chunk = plan.size if plan else messages_at_once(transport)
    while pending:
        # The breaker opened by this worker's own errors stops it at once.
        if breaker.tripped or watch.must_stop():
            ledger.release([reader.delivery_id for reader in pending])
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
            ledger.release([reader.delivery_id for reader in pending])
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
    refused = ledger.refused_now(issue, [*readers, *pending])
    for delivery_id, reason in refused.items():
        ledger.record_skip(delivery_id, reason)
    kept = [reader for reader in pending if reader.delivery_id not in refused]
    pending.clear()
    pending.extend(kept)
    return [reader for reader in readers if reader.delivery_id not in refused]


def send_chunk(issue, readers, breaker, transport, plan=None):
    """Send readers (one API call for all of them with a batch plan), then record the
    outcomes before anything else is claimed or sent."""
    if plan is not None:
        answers = providers.send_batch(issue, plan, readers)
    else:
        answers = send_each(issue, readers, transport)
    hold_for_retry_after(answers.values(), breaker)
    ledger.record_outcomes(
        [(r.delivery_id, answers[r.delivery_id]) for r in readers], breaker, transport
    )


def send_each(issue, readers, transport):
    """One message per reader; {delivery_id: Outcome} for every reader."""
    built, answers = [], {}
    over_smtp = transport == "smtp"
    for reader in readers:
        try:
            # Over SMTP most mails are filled into the issue's serialised skeleton.
            mail = wire.wire_mail(issue, reader) if over_smtp else None
            built.append(mail or emails.build_message(issue, reader))
        except Exception as error:  # a reader's data that cannot become a mail
            answers[reader.delivery_id] = outcomes.cannot_build(reader, error)
    sendable = [r for r in readers if r.delivery_id not in answers]
    if built:
        # The network send happens here, outside any database transaction.
        for reader, outcome in zip(sendable, send_messages(built), strict=True):
            answers[reader.delivery_id] = outcome
    return answers


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


def send_messages(messages):
    """Send built messages with the configured transport; one Outcome each, in order.
    Over SMTP they go out concurrently, one per connection."""
    if transport_name() == "smtp":
        return list(connection.smtp_senders().map(connection.send_over_smtp, messages))
    return [providers.django_mail().send_one(message) for message in messages]


def messages_at_once(transport):
    """How many messages the engine hands to send_messages at a time, and so the most a
    worker process can have in flight (sent, not yet recorded) when it is killed."""
    return connection.smtp_connections() if transport == "smtp" else 1
