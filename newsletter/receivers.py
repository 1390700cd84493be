"""The anymail tracking receiver: bounces, complaints and provider-side unsubscribes.

Fast and idempotent: each event is handled once (deduplicated on the ESP's event_id),
events for messages the ledger does not know are ignored (the ESP still gets its 200),
and the work is done by the subscriber services.
"""

import logging

from anymail.signals import EventType, tracking
from django.core.cache import cache
from django.dispatch import receiver

from newsletter.models import Delivery
from subscribers import services as subscriber_services
from subscribers.models import Event, Subscription

logger = logging.getLogger(__name__)

SEEN_EVENT_SECONDS = 7 * 24 * 3600  # providers retry webhooks for a few days at most
HANDLED = {EventType.BOUNCED, EventType.REJECTED, EventType.COMPLAINED, EventType.UNSUBSCRIBED}


@receiver(tracking, dispatch_uid="newsletter.tracking")
def handle_tracking_event(sender, event, esp_name, **kwargs):
    record_tracking_event(event=event, esp_name=esp_name)


def first_time_seen(esp_name, event_id):
    if not event_id:
        return True
    return cache.add(f"anymail-event:{esp_name}:{event_id}", 1, timeout=SEEN_EVENT_SECONDS)


def delivery_for(event):
    """The ledger row an event is about: by our metadata first, then the provider's id."""
    delivery_id = str((event.metadata or {}).get("delivery") or "")
    rows = Delivery.objects.select_related("issue", "subscriber")
    if delivery_id.isdigit():
        found = rows.filter(pk=int(delivery_id)).first()
        if found:
            return found
    if event.message_id:
        return rows.filter(provider_message_id=event.message_id).first()
    return None


def record_tracking_event(*, event, esp_name):
    """Apply one normalised anymail event; returns what was done (for logs and tests)."""
    if event.event_type not in HANDLED:
        return "ignored"
    if not first_time_seen(esp_name, event.event_id):
        return "duplicate"
    delivery = delivery_for(event)
    if delivery is None:
        logger.info("%s %s for an unknown message %s", esp_name, event.event_type, event.message_id)
        return "unknown"
    email = event.recipient or delivery.subscriber.email
    newsletter = delivery.issue.newsletter
    if event.event_type == EventType.UNSUBSCRIBED:
        # Some providers (SparkPost) answer List-Unsubscribe themselves and only tell us.
        unsubscribe_reader(delivery)
        return event.event_type
    if event.event_type == EventType.COMPLAINED:
        subscriber_services.record_complaint(email=email, newsletter=newsletter)
    else:
        subscriber_services.record_bounce(email=email, newsletter=newsletter, permanent=True)
    reason = f"{esp_name}: {event.event_type} {event.description or event.mta_response or ''}"
    if event.event_type != EventType.COMPLAINED:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.FAILED, error=reason.strip()[:500]
        )
    return event.event_type


def unsubscribe_reader(delivery):
    subscription = Subscription.objects.filter(
        subscriber_id=delivery.subscriber_id, newsletter_id=delivery.issue.newsletter_id
    ).first()
    if subscription is not None:
        subscriber_services.unsubscribe(subscription=subscription, reason=Event.Reason.ONE_CLICK)
