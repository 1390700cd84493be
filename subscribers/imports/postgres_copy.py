"""The PostgreSQL writer of a CSV import chunk: COPY into a temporary table, then SQL.

Creating thousands of model instances per chunk and sending them as parameter arrays
cost more than reading and validating the file. Here a chunk's rows go over COPY into a
temporary table, and three statements do the rest in the database: drop the suppressed
addresses (with the statement subscribers.suppression makes for it), add the new
subscribers, and add the missing subscriptions together with their "imported" events.
The rules are those of subscribers.imports.importing (the ORM writer there does the same
for SQLite); the caller runs each chunk in a transaction.
"""

import json

from django.db import connection, models
from django.utils import timezone

from subscribers.hashing import email_hashes
from subscribers.models import Event, Subscriber, Subscription, new_token
from subscribers.suppression import delete_suppressed_sql

ROWS = "import_rows"  # temporary: private to this database session
COPY_COLUMNS = "position, email, email_hashes, name, custom_fields, subscriber_token, token"


def copy_rows(rows):
    """{email: (name, custom_fields)} as COPY rows: the columns of COPY_COLUMNS."""
    return [
        (position, email, email_hashes(email), name, json.dumps(custom), new_token(), new_token())
        for position, (email, (name, custom)) in enumerate(rows.items())
    ]


def write_chunk(newsletter, rows, declaration):
    """Write the copy_rows() of a chunk; returns (suppressed count, new subscriber ids)."""
    with connection.cursor() as cursor:
        _fill_rows_table(cursor, rows)
        cursor.execute(delete_suppressed_sql(ROWS, "email_hashes"))
        suppressed = cursor.rowcount
        now = timezone.now()
        cursor.execute(*_insert_subscribers(newsletter, now))
        cursor.execute(*_insert_subscriptions_and_events(newsletter, declaration, now))
        return suppressed, [subscriber_id for (subscriber_id,) in cursor.fetchall()]


def _fill_rows_table(cursor, rows):
    # ON COMMIT DELETE ROWS empties the table after each chunk in production; the DELETE
    # is for chunks that share one transaction (tests, or a caller's outer atomic block).
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {ROWS} (position integer, email text, "
        "email_hashes text[], name text, custom_fields jsonb, subscriber_token text, "
        "token text) ON COMMIT DELETE ROWS"
    )
    cursor.execute(f"DELETE FROM {ROWS}")  # noqa: S608 - constant table name  # nosec B608
    with cursor.cursor.copy(f"COPY {ROWS} ({COPY_COLUMNS}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _insert_subscribers(newsletter, now):
    """New addresses become subscribers; existing ones are left exactly as they are."""
    columns, expressions, params = _column_values(
        Subscriber,
        {
            "email": "r.email",
            "name": "r.name",
            "language": ("%s", newsletter.language),
            "custom_fields": "r.custom_fields",
            "token": "r.subscriber_token",  # a column, not a password  # nosec B105
            "created_at": ("%s", now),
        },
    )
    sql = (
        f"INSERT INTO {Subscriber._meta.db_table} ({columns}) "  # noqa: S608  # nosec B608
        f"SELECT {expressions} FROM {ROWS} AS r ORDER BY r.position "
        "ON CONFLICT (email) DO NOTHING"
    )
    return sql, params


# Each row's subscriber looked up in the email index. A join would let the planner hash
# the whole subscriber table for every chunk (it knows nothing of the temporary table),
# which grows with the list. OFFSET 0 keeps the lookup from running twice per row.
_WITH_SUBSCRIBER_ID = (
    f"SELECT r.position, r.token, (SELECT s.id FROM {Subscriber._meta.db_table} AS s "  # noqa: S608  # nosec B608
    f"WHERE s.email = r.email) AS subscriber_id FROM {ROWS} AS r OFFSET 0"
)


def _insert_subscriptions_and_events(newsletter, declaration, now):
    """Subscriptions for the rows without one, an event for each; returns their ids."""
    sub_columns, sub_expressions, sub_params = _column_values(
        Subscription,
        {
            "subscriber": "r.subscriber_id",
            "newsletter": ("%s", newsletter.pk),
            "status": (
                "%s",
                Subscription.Status.CONFIRMED if declaration else Subscription.Status.PENDING,
            ),
            "token": "r.token",  # a column, not a password  # nosec B105
            "source": ("%s", Subscription.Source.IMPORT),
            "consent_text": ("%s", declaration),
            "subscribed_at": ("%s", now),
            "confirmed_at": ("%s", now if declaration else None),
        },
    )
    event_columns, event_expressions, event_params = _column_values(
        Event,
        {
            "subscriber": "new.subscriber_id",
            "newsletter": ("%s", newsletter.pk),
            "kind": ("%s", Event.Kind.IMPORTED),
            "data": ("%s::jsonb", json.dumps(_event_data(declaration))),
            "created_at": ("%s", now),
        },
    )
    sql = (
        f"WITH new AS (INSERT INTO {Subscription._meta.db_table} ({sub_columns}) "  # noqa: S608  # nosec B608
        f"SELECT {sub_expressions} FROM ({_WITH_SUBSCRIBER_ID}) AS r "
        "WHERE r.subscriber_id IS NOT NULL ORDER BY r.position "
        "ON CONFLICT (subscriber_id, newsletter_id) DO NOTHING RETURNING subscriber_id), "
        f"logged AS (INSERT INTO {Event._meta.db_table} ({event_columns}) "
        f"SELECT {event_expressions} FROM new) "
        "SELECT subscriber_id FROM new"
    )
    return sql, [*sub_params, *event_params]


def _event_data(declaration):
    return {"opted_in_declaration": declaration} if declaration else {}


def _column_values(model, explicit):
    """Column list, SELECT expressions and parameters for every concrete column.

    `explicit` maps a field name to an SQL expression, or to (expression, parameter);
    any other column gets its field default, so a new field with a default needs no
    change here.
    """
    columns, expressions, params = [], [], []
    for field in model._meta.concrete_fields:
        if isinstance(field, models.AutoField):
            continue
        columns.append(field.column)
        given = explicit.get(field.name)
        if isinstance(given, tuple):
            expressions.append(given[0])
            params.append(given[1])
        elif given is not None:
            expressions.append(given)
        elif field.has_default() or not field.null:
            expressions.append("%s::jsonb" if isinstance(field, models.JSONField) else "%s")
            params.append(_default(field))
        else:
            expressions.append("NULL")
    return ", ".join(columns), ", ".join(expressions), params


def _default(field):
    value = field.get_default()
    if isinstance(field, models.JSONField):
        return json.dumps(value)
    return field.get_db_prep_save(value, connection)
