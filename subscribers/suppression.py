"""Who may be mailed: the suppression list, bounces and complaints, and the checks that
signup, the imports and the sending engine ask before they write or send.

The list keeps only keyed hashes (subscribers.hashing), looked up under every hash key.
A permanent bounce or a complaint ends the address's subscriptions and puts it on the
list; an erasure puts it there too, until the person confirms a subscription again.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from subscribers.hashing import email_hash, email_hashes
from subscribers.models import Event, Subscriber, Subscription, Suppression
from subscribers.validation import normalise_email


def suppressions_of(email):
    """The suppression list's entries for this address, under whichever key made them."""
    return Suppression.objects.of([email])


def is_suppressed(email):
    """True when the address must never be mailed (erased, bounced, complained, blocked)."""
    return suppressions_of(email).exists()


def is_hard_suppressed(email):
    """True when a signup must not even start: bounced, complained or blocked by staff."""
    return suppressions_of(email).hard().exists()


def suppressed_among(addresses):
    """The addresses (as given) that are on the suppression list (one indexed query)."""
    by_hash = {digest: address for address in addresses for digest in email_hashes(address)}
    found = Suppression.objects.hashed(by_hash).values_list("email_hash", flat=True)
    return {by_hash[digest] for digest in found}


def suppressed_hashes(addresses):
    """The (current) suppression hashes of those among these addresses that are suppressed,
    under whichever hash key (one indexed query)."""
    return {email_hash(address) for address in suppressed_among(addresses)}


def skip_reason(status, suppressed):
    """Why a reader with this subscription status must not get mail now ("" if they may)."""
    if status != Subscription.Status.CONFIRMED:
        return _("no longer subscribed (%s)") % (status or "gone")
    if suppressed:
        return _("address is suppressed")
    return ""


def delete_suppressed_sql(table, hashes_column):
    """SQL that deletes the rows of `table` whose `hashes_column` (text[], the email_hashes()
    of the row's address) holds a hash on the list: the COPY import's check."""
    return (
        f"DELETE FROM {table} USING {Suppression._meta.db_table} AS s "  # noqa: S608  # nosec B608
        f"WHERE s.email_hash = ANY({table}.{hashes_column})"
    )


def suppress(*, email, reason):
    """Add the keyed hash of an address to the suppression list (idempotent).

    An entry made under an old hash key moves to the current one, so that the old key is
    needed for fewer entries over time; the first reason stays.
    """
    current = email_hash(email)
    entry = suppressions_of(email).first()
    if entry is None:
        Suppression.objects.get_or_create(email_hash=current, defaults={"reason": reason})
    elif entry.email_hash != current:
        Suppression.objects.filter(pk=entry.pk).update(email_hash=current)


def lift_erasure(*, email):
    """The person proved they own the mailbox: an earlier erasure no longer applies."""
    suppressions_of(email).filter(reason=Suppression.Reason.ERASED).delete()


def _mark_problem(*, email, newsletter, status, kind, reason, suppression_reason):
    subscriptions = Subscription.objects.filter(subscriber__email=normalise_email(email))
    if newsletter is not None:
        subscriptions = subscriptions.filter(newsletter=newsletter)
    now = timezone.now()
    for subscription in subscriptions.exclude(status=status):
        Subscription.objects.filter(pk=subscription.pk).update(status=status, unsubscribed_at=now)
        Event.objects.create(
            subscriber_id=subscription.subscriber_id,
            newsletter_id=subscription.newsletter_id,
            kind=kind,
            reason=reason,
        )
    suppress(email=email, reason=suppression_reason)


@transaction.atomic
def record_bounce(*, email, newsletter=None, permanent=True):
    """A permanent bounce stops all mail to the address; a transient one is only noted."""
    if not permanent:
        subscriber = Subscriber.objects.filter(email=normalise_email(email)).first()
        if subscriber:
            Event.objects.create(
                subscriber=subscriber,
                newsletter=newsletter,
                kind=Event.Kind.BOUNCED,
                data={"permanent": False},
            )
        return
    _mark_problem(
        email=email,
        newsletter=newsletter,
        status=Subscription.Status.BOUNCED,
        kind=Event.Kind.BOUNCED,
        reason=Event.Reason.BOUNCE,
        suppression_reason=Suppression.Reason.BOUNCED,
    )


@transaction.atomic
def record_complaint(*, email, newsletter=None):
    """A spam complaint stops all mail to the address for good."""
    _mark_problem(
        email=email,
        newsletter=newsletter,
        status=Subscription.Status.COMPLAINED,
        kind=Event.Kind.COMPLAINED,
        reason=Event.Reason.COMPLAINT,
        suppression_reason=Suppression.Reason.COMPLAINED,
    )
