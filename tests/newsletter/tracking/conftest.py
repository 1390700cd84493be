"""Fixtures for the webhook tests (tests/newsletter/tracking/webhook_helpers.py has the helpers)."""

import uuid

import pytest

from newsletter.models import Delivery
from tests.factories import make_draft, make_newsletter, subscribe
from tests.newsletter.tracking.webhook_helpers import SECRET


@pytest.fixture
def postmark_webhooks(settings):
    """Postmark is the configured provider, its webhooks behind basic auth."""
    settings.EMAIL_PROVIDER = "postmark"
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET}


@pytest.fixture
def delivery(postmark_webhooks):
    """A delivery sent through Postmark, plus a second reader of the same newsletter."""
    newsletter = make_newsletter()
    subscription = subscribe(newsletter, "gone@example.com")
    subscribe(newsletter, "bystander@example.com")
    issue = make_draft(newsletter)
    return Delivery.objects.create(
        issue=issue,
        subscriber=subscription.subscriber,
        status="sent",
        provider_message_id=f"pm-{uuid.uuid4()}",
    )
