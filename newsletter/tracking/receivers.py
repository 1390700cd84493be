"""The anymail tracking receiver: bounces, complaints and provider-side unsubscribes.

An event is acted on only when it proves which mail it is about: its metadata carries a
delivery reference this server signed (newsletter/sending/delivery_reference.py), and its message
id is the one the provider gave for that delivery. The effect falls on that delivery's
own reader, never on an address named in the body. Each kind of event is applied once
per delivery (a TrackingEvent row inserted in the same transaction as the effect), so
repeats, retries and storms change nothing. Anything else is logged and ignored; the
webhook still answers 200, so the provider does not retry it forever.
"""

import logging

from anymail.signals import EventType, tracking
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.utils.crypto import constant_time_compare

from newsletter.models import Delivery, TrackingEvent
from newsletter.sending import delivery_reference
from newsletter.sending.outcomes import ERROR_LENGTH
from subscribers import services as subscriber_services
from subscribers import suppression
from subscribers.models import Event, Subscription

logger = logging.getLogger(__name__)

KINDS = {
    EventType.BOUNCED: TrackingEvent.Kind.BOUNCED,
    EventType.REJECTED: TrackingEvent.Kind.BOUNCED,
    EventType.COMPLAINED: TrackingEvent.Kind.COMPLAINED,
    EventType.UNSUBSCRIBED: TrackingEvent.Kind.UNSUBSCRIBED,
}


@receiver(tracking, dispatch_uid="newsletter.tracking")
def handle_tracking_event(sender, event, esp_name, **kwargs):
    record_tracking_event(event=event, esp_name=esp_name)


def clean(value, limit):
    """Webhook text fit for a column: a string, no NUL (PostgreSQL refuses it), bounded."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    return text.replace("\x00", "")[:limit]


def delivery_for(event):
    """The delivery an event proves it is about, or None."""
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    delivery_id = delivery_reference.unsign(metadata.get("delivery"))
    if delivery_id is None:
        return None
    delivery = Delivery.objects.select_related("issue", "subscriber").filter(pk=delivery_id)
    delivery = delivery.first()
    message_id = event.message_id
    if delivery is None or not delivery.provider_message_id:
        return None
    if isinstance(message_id, bool) or not isinstance(message_id, (str, int)):
        return None
    if not constant_time_compare(str(message_id), delivery.provider_message_id):
        return None
    return delivery


def record_tracking_event(*, event, esp_name):
    """Apply one normalised anymail event; returns what was done (for logs and tests)."""
    kind = KINDS.get(event.event_type) if isinstance(event.event_type, str) else None
    if kind is None:
        return "ignored"
    delivery = delivery_for(event)
    if delivery is None:
        logger.info(
            "%s %s ignored: no delivery of ours with message id %r",
            esp_name,
            event.event_type,
            clean(event.message_id, 100),
        )
        return "unknown"
    with transaction.atomic():
        if not claim(delivery, kind, esp_name=esp_name, event_id=event.event_id):
            return "duplicate"
        apply(delivery, kind, esp_name=esp_name, event=event)
    return kind


def claim(delivery, kind, *, esp_name, event_id):
    """Insert this delivery's event of this kind; False if it was already applied."""
    if TrackingEvent.objects.filter(delivery=delivery, kind=kind).exists():
        return False
    try:
        with transaction.atomic():
            TrackingEvent.objects.create(
                delivery=delivery,
                kind=kind,
                esp=clean(esp_name, 40),
                event_id=clean(event_id, 255),
            )
    except IntegrityError:  # a concurrent post of the same event committed first
        return False
    return True


def apply(delivery, kind, *, esp_name, event):
    email = delivery.subscriber.email
    newsletter = delivery.issue.newsletter
    if kind == TrackingEvent.Kind.UNSUBSCRIBED:
        # Some providers (SparkPost) answer List-Unsubscribe themselves and only tell us.
        unsubscribe_reader(delivery)
    elif kind == TrackingEvent.Kind.COMPLAINED:
        suppression.record_complaint(email=email, newsletter=newsletter)
    else:
        suppression.record_bounce(email=email, newsletter=newsletter, permanent=True)
        detail = event.description or event.mta_response or ""
        reason = clean(f"{esp_name}: {event.event_type} {clean(detail, 400)}", ERROR_LENGTH)
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.FAILED, error=reason.strip()
        )


def unsubscribe_reader(delivery):
    subscription = Subscription.objects.filter(
        subscriber_id=delivery.subscriber_id, newsletter_id=delivery.issue.newsletter_id
    ).first()
    if subscription is not None:
        subscriber_services.unsubscribe(subscription=subscription, reason=Event.Reason.ONE_CLICK)
