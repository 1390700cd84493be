"""The admin log's view of readers: entries name a reader by address until they are erased."""

from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext

from subscribers.hashing import email_hash
from subscribers.models import Subscriber


def log_entries_of(subscriber):
    content_type = ContentType.objects.get_for_model(Subscriber)
    return LogEntry.objects.filter(content_type=content_type, object_id=str(subscriber.pk))


def log_erasure(*, user_id, subscriber):
    """Record who erased the reader, under the keyed hash (the erasure scrubs older entries)."""
    LogEntry.objects.create(
        user_id=user_id,
        content_type=ContentType.objects.get_for_model(Subscriber),
        object_id=str(subscriber.pk),
        object_repr=email_hash(subscriber.email),
        action_flag=DELETION,
        change_message=gettext("Erased"),
    )


def forget_in_admin_log(subscriber):
    """Replace the address in the reader's admin log entries by its keyed hash; returns it.

    The entries stay (who did what, and when, is the staff's audit trail); only the
    personal data goes, the same keyed hash the suppression list keeps.
    """
    hashed = email_hash(subscriber.email)
    log_entries_of(subscriber).update(object_repr=hashed)
    return hashed
