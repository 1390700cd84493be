"""Every write about subscribers: signup, confirmation, unsubscribe, preferences, erasure.

Views, tasks, admin actions and commands call these functions, and subscribers.suppression
for the suppression list, bounces and complaints; nothing else writes. Mail is never sent
inside a transaction: tasks are enqueued by name once it commits.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from subscribers import ratelimit
from subscribers.audit import forget_in_admin_log, log_erasure
from subscribers.consent import consent_ip
from subscribers.models import Event, Subscriber, Subscription, Suppression
from subscribers.queue import enqueue
from subscribers.suppression import is_hard_suppressed, lift_erasure, suppress
from subscribers.validation import clean_name, normalise_email

# A second signup within this time never sends a second mail (double clicks, reloads).
CONFIRMATION_RESEND_INTERVAL = timedelta(minutes=2)


def _record_consent(subscription, *, source, ip, consent_text, consent_version):
    subscription.source = source
    subscription.consent_text = consent_text
    subscription.consent_version = consent_version
    subscription.consent_ip = consent_ip(ip)
    subscription.subscribed_at = timezone.now()


@transaction.atomic
def subscribe(*, newsletter, email, name="", source, ip=None, language=""):
    """Start double opt-in for an address; the outcome is deliberately invisible to callers.

    1. A name that clean_name refuses raises ValidationError before anything is written.
    2. Addresses on a hard suppression (bounce, complaint, admin block) get nothing.
    3. New, unsubscribed or pending subscriptions become pending with fresh consent
       evidence, and a confirmation mail is requested (throttled).
    4. Confirmed, bounced and complained subscriptions are left exactly as they are.

    The name is only used for a reader this signup creates. Whoever fills in a form
    has proved nothing yet, so an existing reader's name (even an empty one) stays as
    it is: only the reader in the preference centre and staff change names.
    """
    email = normalise_email(email)
    name = clean_name(name)
    if is_hard_suppressed(email):
        return None
    subscriber, _created = Subscriber.objects.get_or_create(
        email=email, defaults={"name": name, "language": language}
    )
    subscription, _new = Subscription.objects.select_for_update().get_or_create(
        subscriber=subscriber, newsletter=newsletter, defaults={"source": source}
    )
    if subscription.status == Subscription.Status.CONFIRMED:
        return subscription
    if subscription.status in Subscription.BLOCKED_STATUSES:
        return subscription
    _record_consent(
        subscription,
        source=source,
        ip=ip,
        consent_text=newsletter.consent_text,
        consent_version=newsletter.consent_version,
    )
    subscription.status = Subscription.Status.PENDING
    subscription.unsubscribed_at = None
    subscription.save()
    Event.objects.create(
        subscriber=subscriber,
        newsletter=newsletter,
        kind=Event.Kind.SUBSCRIBED,
        data={
            "source": source,
            "consent_version": newsletter.consent_version,
            "ip": subscription.consent_ip,
        },
    )
    request_confirmation(subscription=subscription)
    return subscription


def request_confirmation(*, subscription):
    """Queue a confirmation mail unless throttled; returns True when one was queued.

    Throttling is what keeps the form from being a mail bomb aimed at a third party:
    at most SIGNUP_RATE_PER_ADDRESS_PER_DAY mails per address per day, and never two
    within CONFIRMATION_RESEND_INTERVAL.
    """
    if subscription.status != Subscription.Status.PENDING:
        return False
    now = timezone.now()
    sent_at = subscription.confirmation_sent_at
    if sent_at and now - sent_at < CONFIRMATION_RESEND_INTERVAL:
        return False
    if not ratelimit.address_allowed(subscription.subscriber.email):
        return False
    Subscription.objects.filter(pk=subscription.pk).update(confirmation_sent_at=now)
    subscription.confirmation_sent_at = now
    Event.objects.create(
        subscriber_id=subscription.subscriber_id,
        newsletter_id=subscription.newsletter_id,
        kind=Event.Kind.CONFIRMATION_SENT,
    )
    enqueue("subscribers.send_confirmation", subscription_id=subscription.pk)
    return True


def resend_confirmation(*, newsletter, email):
    """Re-send the confirmation mail of a pending subscription; silent otherwise."""
    try:
        subscription = Subscription.objects.select_related("subscriber").get(
            newsletter=newsletter, subscriber__email=normalise_email(email)
        )
    except Subscription.DoesNotExist:
        return False
    with transaction.atomic():
        return request_confirmation(subscription=subscription)


@transaction.atomic
def confirm_subscription(*, subscription, evidence=None):
    """Activate a pending subscription (idempotent); `evidence` goes on the CONFIRMED event."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.status != Subscription.Status.PENDING:
        return subscription
    subscription.status = Subscription.Status.CONFIRMED
    subscription.confirmed_at = timezone.now()
    subscription.save(update_fields=["status", "confirmed_at"])
    lift_erasure(email=subscription.subscriber.email)
    Event.objects.create(
        subscriber_id=subscription.subscriber_id,
        newsletter_id=subscription.newsletter_id,
        kind=Event.Kind.CONFIRMED,
        data=evidence or {},
    )
    if subscription.newsletter.welcome_enabled:
        enqueue("subscribers.send_welcome", subscription_id=subscription.pk)
    return subscription


@transaction.atomic
def unsubscribe(*, subscription, reason):
    """Stop mail for one newsletter at once; repeating it changes nothing."""
    active = Subscription.objects.active().filter(pk=subscription.pk)
    updated = active.update(  # a later signup is a new request: the resend throttle starts over
        status=Subscription.Status.UNSUBSCRIBED,
        unsubscribed_at=timezone.now(),
        confirmation_sent_at=None,
    )
    if updated:
        Event.objects.create(
            subscriber_id=subscription.subscriber_id,
            newsletter_id=subscription.newsletter_id,
            kind=Event.Kind.UNSUBSCRIBED,
            reason=reason,
        )
    subscription.refresh_from_db()
    return bool(updated)


def unsubscribe_all(*, subscriber, reason):
    """Unsubscribe from every newsletter of the site; returns how many were active."""
    active = subscriber.subscriptions.active()
    return sum(unsubscribe(subscription=s, reason=reason) for s in active)


@transaction.atomic
def update_preferences(*, subscriber, name, newsletters):
    """Save the name and the chosen newsletters from the preference centre.

    The preference link was mailed to this address, so a newsletter chosen here is
    confirmed directly, with the preference centre recorded as the consent source.
    """
    name = clean_name(name)
    if subscriber.name != name:
        subscriber.name = name
        subscriber.save(update_fields=["name"])
        Event.objects.create(subscriber=subscriber, kind=Event.Kind.UPDATED, data={"field": "name"})
    chosen = {n.pk: n for n in newsletters}
    for subscription in subscriber.subscriptions.select_related("newsletter"):
        if subscription.newsletter_id not in chosen:
            unsubscribe(subscription=subscription, reason=Event.Reason.PREFERENCES)
        chosen_newsletter = chosen.pop(subscription.newsletter_id, None)
        if chosen_newsletter and subscription.status == Subscription.Status.UNSUBSCRIBED:
            _confirm_from_preferences(subscription, chosen_newsletter)
        elif chosen_newsletter and subscription.status == Subscription.Status.PENDING:
            confirm_subscription(subscription=subscription)
    for newsletter in chosen.values():
        subscription = Subscription(subscriber=subscriber, newsletter=newsletter)
        _confirm_from_preferences(subscription, newsletter)


def _confirm_from_preferences(subscription, newsletter):
    _record_consent(
        subscription,
        source=Subscription.Source.PREFERENCES,
        ip=None,
        consent_text=newsletter.consent_text,
        consent_version=newsletter.consent_version,
    )
    subscription.status = Subscription.Status.CONFIRMED
    subscription.confirmed_at = timezone.now()
    subscription.unsubscribed_at = None
    subscription.save()
    Event.objects.create(
        subscriber_id=subscription.subscriber_id,
        newsletter=newsletter,
        kind=Event.Kind.CONFIRMED,
        reason="",
        data={
            "source": Subscription.Source.PREFERENCES,
            "consent_text": newsletter.consent_text,
            "consent_version": newsletter.consent_version,
        },
    )


def export_data(*, subscriber):
    """Everything stored about a subscriber, as JSON-ready data (GDPR Art. 15 and 20)."""
    Event.objects.create(subscriber=subscriber, kind=Event.Kind.EXPORTED)
    subscriptions = subscriber.subscriptions.select_related("newsletter")
    return {
        "email": subscriber.email,
        "name": subscriber.name,
        "language": subscriber.language,
        "custom_fields": subscriber.custom_fields,
        "created_at": subscriber.created_at.isoformat(),
        "subscriptions": [_subscription_data(s) for s in subscriptions],
        "events": [
            {
                "kind": e.kind,
                "reason": e.reason,
                "newsletter": e.newsletter.name if e.newsletter else None,
                "data": e.data,
                "at": e.created_at.isoformat(),
            }
            for e in subscriber.events.select_related("newsletter").order_by("created_at", "id")
        ],
    }


def _iso(value):
    return value.isoformat() if value else None


def _subscription_data(subscription):
    return {
        "newsletter": subscription.newsletter.name,
        "status": subscription.status,
        "source": subscription.source,
        "consent_text": subscription.consent_text,
        "consent_version": subscription.consent_version,
        "consent_ip": subscription.consent_ip,
        "subscribed_at": _iso(subscription.subscribed_at),
        "confirmed_at": _iso(subscription.confirmed_at),
        "unsubscribed_at": _iso(subscription.unsubscribed_at),
    }


@transaction.atomic
def erase_subscriber(*, subscriber, erased_by=None):
    """Delete a subscriber's personal data, keeping only the keyed hash for suppression.

    Their events stay as anonymous counts (no link to the person, details dropped: those
    may hold IPs or consent details), so the newsletters' statistics of readers gained and
    lost stay true; each newsletter they still received records the erasure as a loss.
    A staff member's user id as `erased_by` goes into the admin log in the same
    transaction: logged if and only if erased.
    """
    if erased_by is not None:
        log_erasure(user_id=erased_by, subscriber=subscriber)
    suppress(email=subscriber.email, reason=Suppression.Reason.ERASED)
    forget_in_admin_log(subscriber)
    active = list(subscriber.subscriptions.active().values_list("newsletter_id", flat=True))
    subscriber.events.update(subscriber=None, data={})
    subscriber.delete()
    Event.objects.bulk_create(
        [
            Event(newsletter_id=newsletter_id, kind=Event.Kind.ERASED, reason=Event.Reason.ERASED)
            for newsletter_id in active
        ]
        or [Event(kind=Event.Kind.ERASED, reason=Event.Reason.ERASED)]
    )


def purge_pending(*, now=None):
    """Delete subscriptions left unconfirmed past PENDING_PURGE_DAYS; returns how many.

    Subscribers left with no subscription at all are deleted with their events: an
    address that never confirmed anything is personal data without a purpose.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.PENDING_PURGE_DAYS)
    expired = Subscription.objects.pending().filter(subscribed_at__lt=cutoff)
    purged = 0
    while batch := list(expired.values_list("pk", "subscriber_id", "newsletter_id")[:1000]):
        purged += _purge_batch(batch)
    return purged


@transaction.atomic
def _purge_batch(batch):
    Subscription.objects.filter(pk__in=[pk for pk, _s, _n in batch]).delete()
    subscriber_ids = {subscriber_id for _pk, subscriber_id, _n in batch}
    orphans = set(
        Subscriber.objects.filter(pk__in=subscriber_ids, subscriptions__isnull=True).values_list(
            "pk", flat=True
        )
    )
    Event.objects.filter(subscriber_id__in=orphans).delete()
    Subscriber.objects.filter(pk__in=orphans).delete()
    Event.objects.bulk_create(
        Event(
            subscriber_id=subscriber_id,
            newsletter_id=newsletter_id,
            kind=Event.Kind.UNSUBSCRIBED,
            reason=Event.Reason.EXPIRED,
        )
        for _pk, subscriber_id, newsletter_id in batch
        if subscriber_id not in orphans
    )
    return len(batch)
