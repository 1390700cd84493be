"""The delivery ledger: claim due rows, load their readers, check them again, and record
each outcome (see docs/sending.md for the guarantees this keeps).

Rows move queued → sending → sent | failed | retrying (→ sending …) | skipped. A claim
marks rows `sending` with the claim time; a row whose claim is older than
SEND_LEASE_SECONDS is claimable again (its worker is taken to be dead).
"""

import json
import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from newsletter.models import Delivery
from newsletter.sending import emails
from newsletter.sending.outcomes import PERMANENT, SENT, TRANSIENT
from subscribers.models import Subscriber, Subscription
from subscribers.suppression import email_hash, skip_reason, suppressed_hashes

logger = logging.getLogger(__name__)


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
"""  # noqa: S608  # nosec B608


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


def record_outcomes(outcomes, breaker, transport):
    """Write a chunk's outcomes ((delivery id, Outcome) pairs): all sent rows in one
    UPDATE (one statement per chunk instead of one per reader), errors row by row.

    1. The sent rows first, on their own: those mails are gone, and a failure in any later
       step must not lose that record (the lease would send them again).
    2. The errors, each row's retry or failure.
    3. The breaker's bookkeeping last, guarded: a shared-cache fault costs a count, not
       the batch.
    """
    sent = {i: o.provider_message_id[:255] for i, o in outcomes if o.status == SENT}
    if sent:
        mark_sent(sent, transport)
    transient = 0
    for delivery_id, outcome in outcomes:
        if outcome.status != SENT:
            record_error(delivery_id, outcome, transport)
            transient += outcome.status == TRANSIENT
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
        f"WITH sent (delivery_id, message_id) AS ({rows}) "  # noqa: S608  # nosec B608
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
    if outcome.status == PERMANENT or attempts >= settings.SEND_MAX_ATTEMPTS:
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
    # Jitter spreads retries out; nothing about it needs to be unpredictable.
    return min(delay, settings.SEND_RETRY_MAX_SECONDS) * random.uniform(0.5, 1.5)  # nosec B311


def record_skip(delivery_id, reason):
    Delivery.objects.filter(id=delivery_id, status=Delivery.Status.SENDING).update(
        status=Delivery.Status.SKIPPED, error=reason
    )


def release(ids):
    """Hand claimed but unsent rows back, without counting an attempt."""
    Delivery.objects.filter(id__in=ids, status=Delivery.Status.SENDING).update(
        status=Delivery.Status.QUEUED, claimed_at=None, attempts=F("attempts") - 1
    )
