"""Whom the editor's preview is personalised for: a reader of the newsletter the author
picks, or sample values (custom fields included), never the previewing admin."""

from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection
from django.utils.translation import gettext as _

from newsletter.rendering import Recipient
from newsletter.rendering.placeholders import custom_keys_in
from subscribers.models import Subscriber, Subscription
from subscribers.validation import normalise_email

SAMPLE_EMAIL = "reader@example.org"
READER_CHOICES = 200  # addresses offered in the picker; any other can be typed
KEYS_CACHE_SECONDS = 60  # the preview asks on every pause in typing


@dataclass
class PreviewReader:
    recipient: Recipient
    email: str = ""  # the reader's address, "" for sample values
    warnings: list = field(default_factory=list)


def custom_keys_of(newsletter):
    """Every custom field key any reader of the newsletter has (cached for a minute)."""
    key = f"newsletter:custom-keys:{newsletter.pk}"
    keys = cache.get(key)
    if keys is None:
        keys = sorted(_query_custom_keys(newsletter.pk))
        cache.set(key, keys, KEYS_CACHE_SECONDS)
    return keys


def _query_custom_keys(newsletter_id):
    subscribers = Subscriber._meta.db_table
    subscriptions = Subscription._meta.db_table
    # Table names come from the models, the newsletter id is a parameter.
    if connection.vendor == "postgresql":
        keys = f"jsonb_object_keys(s.custom_fields) FROM {subscribers} s"
        objects_only = "AND jsonb_typeof(s.custom_fields) = 'object'"
    else:
        keys = f"j.key FROM {subscribers} s, json_each(s.custom_fields) j"
        objects_only = "AND json_type(s.custom_fields) = 'object'"
    sql = (
        f"SELECT DISTINCT {keys} JOIN {subscriptions} sub ON sub.subscriber_id = s.id "  # nosec B608
        f"WHERE sub.newsletter_id = %s {objects_only}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [newsletter_id])
        return {row[0] for row in cursor.fetchall() if row[0]}


def reader_choices(newsletter):
    """Addresses of confirmed readers to offer in the preview's reader picker."""
    return list(
        Subscription.objects.filter(newsletter=newsletter, status=Subscription.Status.CONFIRMED)
        .order_by("subscriber__email")
        .values_list("subscriber__email", flat=True)[:READER_CHOICES]
    )


def preview_reader(*, newsletter, choice, urls):
    """The reader named by choice (an address), else sample values, with warnings."""
    choice = (choice or "").strip()
    if choice:
        subscription = (
            Subscription.objects.select_related("subscriber")
            .filter(newsletter=newsletter, subscriber__email=normalise_email(choice))
            .first()
        )
        if subscription:
            subscriber = subscription.subscriber
            recipient = Recipient(
                email=subscriber.email,
                name=subscriber.name,
                custom_fields=subscriber.custom_fields or {},
                **urls,
            )
            return PreviewReader(recipient, subscriber.email)
    sample = Recipient(
        email=SAMPLE_EMAIL,
        name=_("Alex Example"),
        custom_fields={key: f"[{key}]" for key in custom_keys_of(newsletter)},
        **urls,
    )
    warnings = []
    if choice:
        message = _("%(email)s is not a reader of this newsletter: sample values are shown.")
        warnings.append(message % {"email": choice})
    return PreviewReader(sample, "", warnings)


def unknown_custom_fields(*texts, newsletter):
    """A warning for each {{ custom.… }} that no reader of the newsletter has."""
    known = {key.casefold() for key in custom_keys_of(newsletter)}
    used = custom_keys_in("\n".join(texts))
    return [
        _("No reader has the custom field %(placeholder)s: it is empty (or its default).")
        % {"placeholder": "{{ custom." + name + " }}"}
        for name in used
        if name.casefold() not in known
    ]
