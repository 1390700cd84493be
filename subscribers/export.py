"""CSV export of subscriptions, and the cell escaping every CSV made for staff uses."""

import csv
import json

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXPORT_HEADER = [
    "email",
    "name",
    "status",
    "source",
    "subscribed_at",
    "confirmed_at",
    "unsubscribed_at",
    "consent_version",
    "custom_fields",
]


def safe_cell(value):
    """Neutralise cells a spreadsheet would run as a formula (CSV injection, OWASP)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def export_rows(subscriptions):
    """CSV lines (header first) for a queryset of subscriptions, fetched in chunks."""

    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())
    yield writer.writerow(EXPORT_HEADER)
    rows = subscriptions.select_related("subscriber").order_by("pk")
    for subscription in rows.iterator(chunk_size=2000):
        subscriber = subscription.subscriber
        yield writer.writerow(
            [
                safe_cell(value)
                for value in (
                    subscriber.email,
                    subscriber.name,
                    subscription.status,
                    subscription.source,
                    subscription.subscribed_at and subscription.subscribed_at.isoformat(),
                    subscription.confirmed_at and subscription.confirmed_at.isoformat(),
                    subscription.unsubscribed_at and subscription.unsubscribed_at.isoformat(),
                    subscription.consent_version,
                    _custom_fields_cell(subscriber.custom_fields),
                )
            ]
        )


def _custom_fields_cell(custom_fields):
    return json.dumps(custom_fields, ensure_ascii=False, sort_keys=True) if custom_fields else ""
