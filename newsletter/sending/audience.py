"""Who an issue goes to: one rule, used by the snapshot that starts a send and by the
count the author confirms before it (readers may change in between; the page says so).

Addresses on the suppression list are part of the audience here and are skipped, with a
reason, when their turn comes (the engine checks every reader again right before sending).
"""

from django.db import connection
from django.db.models import DateTimeField, IntegerField, Value

from newsletter.models import Delivery
from subscribers.models import Subscription


def readers_of(*, newsletter_id):
    """The subscriptions an issue of the newsletter is sent to: the confirmed ones."""
    return Subscription.objects.confirmed().filter(newsletter_id=newsletter_id).order_by()


def audience_count(*, newsletter):
    """How many readers a send started now would snapshot."""
    return readers_of(newsletter_id=newsletter.pk).count()


def snapshot_audience(*, issue, now):
    """One queued Delivery per reader of readers_of(), in a single INSERT … SELECT."""
    rows = readers_of(newsletter_id=issue.newsletter_id).values_list(
        Value(issue.pk, output_field=IntegerField()),
        "subscriber_id",
        Value(Delivery.Status.QUEUED),
        Value(0, output_field=IntegerField()),
        Value(""),
        Value(""),
        Value(""),
        Value(now, output_field=DateTimeField()),
    )
    select, params = rows.query.sql_with_params()
    table = Delivery._meta.db_table
    sql = (
        f"INSERT INTO {table} (issue_id, subscriber_id, status, attempts, "  # noqa: S608  # nosec B608
        "provider_message_id, provider, error, updated_at) "
        f"SELECT * FROM ({select}) AS audience WHERE true "
        "ON CONFLICT (issue_id, subscriber_id) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    return Delivery.objects.filter(issue=issue).count()
