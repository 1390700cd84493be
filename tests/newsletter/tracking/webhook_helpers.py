"""Shared pieces for the webhook tests: a sent delivery and genuine Postmark posts for it."""

import base64
import json
import uuid
from pathlib import Path

from newsletter.models import Delivery
from newsletter.sending import emails
from subscribers.models import Event, Subscription, Suppression
from tests.newsletter.sending.send_helpers import reader_for

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads"
SECRET = "hook:s3cret"
URL = "/webhooks/anymail/postmark/tracking/"


def metadata_reference(delivery):
    """The `delivery` metadata value the send path puts on this reader's mail."""
    subscription = Subscription.objects.get(
        subscriber=delivery.subscriber, newsletter=delivery.issue.newsletter
    )
    reader = reader_for(delivery, subscription)
    return emails.build_message(delivery.issue, reader).metadata["delivery"]


def payload(name, delivery, *, reference=None, message_id=None, email=None):
    """A captured Postmark payload filled in for `delivery` (or with forged values)."""
    text = (PAYLOADS / name).read_text()
    values = {
        "ISSUE": str(delivery.issue_id),
        "DELIVERY": metadata_reference(delivery) if reference is None else reference,
        "MESSAGE_ID": delivery.provider_message_id if message_id is None else message_id,
        "EMAIL": delivery.subscriber.email if email is None else email,
    }
    data = json.loads(text, object_hook=lambda d: fill(d, values))
    data["ID"] = uuid.uuid4().int % 10**15  # each call a new event, as from the provider
    return data


def fill(obj, values):
    return {
        key: values.get(value, value) if isinstance(value, str) else value
        for key, value in obj.items()
    }


def basic_auth(credentials=SECRET):
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def post(client, data, *, auth=SECRET, url=URL):
    body = data if isinstance(data, (str, bytes)) else json.dumps(data)
    headers = {"HTTP_AUTHORIZATION": basic_auth(auth)} if auth else {}
    return client.post(url, body, content_type="application/json", **headers)


def snapshot():
    """Everything a webhook may change, to compare before and after."""
    return {
        "subscriptions": sorted(Subscription.objects.values_list("pk", "status")),
        "suppressions": sorted(Suppression.objects.values_list("email_hash", "reason")),
        "events": Event.objects.count(),
        "deliveries": sorted(Delivery.objects.values_list("pk", "status", "error")),
    }
