"""The admin log's view of readers: entries name a reader by address until they are erased."""

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from subscribers.models import Subscriber
from subscribers.suppression import email_hash


def log_entries_of(subscriber):
    content_type = ContentType.objects.get_for_model(Subscriber)
    return LogEntry.objects.filter(content_type=content_type, object_id=str(subscriber.pk))


def forget_in_admin_log(subscriber):
    """Replace the address in the reader's admin log entries by its keyed hash; returns it.

    The entries stay (who did what, and when, is the staff's audit trail); only the
    personal data goes, the same keyed hash the suppression list keeps.
    """
    hashed = email_hash(subscriber.email)
    log_entries_of(subscriber).update(object_repr=hashed)
    return hashed
