"""A mail sent through a provider (fake API on loopback), then that provider's own bounce
webhook for it: the metadata and message id the send stored are what the event carries."""

import json
import uuid

import pytest

from newsletter import sending
from newsletter.models import Delivery, Issue
from newsletter.sending import providers
from subscribers.models import Subscription, Suppression
from tests.factories import make_draft, make_newsletter, subscribe
from tests.fakes.esp import FakeBrevo, FakeMailjet, FakeSendGrid
from tests.newsletter.sending.send_helpers import drain, forget_send_state
from tests.newsletter.tracking.webhook_helpers import SECRET, basic_auth, snapshot

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:django-anymail has dropped official support"),
]


def sendgrid_bounce(mail, email):
    return [{
        "email": email, "event": "bounce", "type": "bounce", "timestamp": 1764000000,
        "sg_event_id": str(uuid.uuid4()), "sg_message_id": "sg.1", "anymail_id": mail["message_id"],
        "reason": "550 5.1.1 unknown user", "status": "5.1.1", **mail["metadata"],
    }]  # fmt: skip


def mailjet_bounce(mail, email):
    return {
        "event": "bounce", "time": 1764000000, "MessageID": int(mail["message_id"]),
        "email": email, "Payload": json.dumps(mail["metadata"]), "hard_bounce": True,
        "error_related_to": "recipient", "error": "user unknown",
    }  # fmt: skip


def brevo_bounce(mail, email):
    return {
        "event": "hard_bounce", "email": email, "id": 1, "date": "2026-11-20 16:09:19",
        "ts_event": 1764000000, "message-id": mail["message_id"], "reason": "unknown user",
        "X-Mailin-custom": json.dumps(mail["metadata"]),
    }  # fmt: skip


PROVIDERS = {
    "sendgrid": (FakeSendGrid, sendgrid_bounce),
    "mailjet": (FakeMailjet, mailjet_bounce),
    "brevo": (FakeBrevo, brevo_bounce),
}


@pytest.fixture(params=sorted(PROVIDERS))
def provider(request, settings):
    fake_class, bounce = PROVIDERS[request.param]
    fake = fake_class().start()
    settings.EMAIL_BACKEND = f"anymail.backends.{fake.name}.EmailBackend"
    settings.ANYMAIL = {**fake.anymail_settings(), "WEBHOOK_SECRET": SECRET}
    providers._django_mail.clear()
    forget_send_state()
    yield fake, bounce
    forget_send_state()
    fake.stop()


def send_to_two_readers():
    newsletter = make_newsletter()
    subscribe(newsletter, "gone@example.com")
    subscribe(newsletter, "bystander@example.com")
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    drain(Issue.objects.get(pk=issue.pk))
    return issue


def post_event(client, name, body):
    return client.post(
        f"/webhooks/anymail/{name}/tracking/",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic_auth(),
    )


def test_the_providers_bounce_for_a_sent_mail_bounces_its_reader_once(client, provider):
    fake, bounce = provider
    send_to_two_readers()
    (mail,) = fake.to("gone@example.com")
    body = bounce(mail, "gone@example.com")
    assert post_event(client, fake.name, body).status_code == 200
    reader = Subscription.objects.get(subscriber__email="gone@example.com")
    assert reader.status == Subscription.Status.BOUNCED
    assert Delivery.objects.get(subscriber=reader.subscriber).status == "failed"
    assert Subscription.objects.get(subscriber__email="bystander@example.com").status == (
        Subscription.Status.CONFIRMED
    )
    after = snapshot()
    assert post_event(client, fake.name, body).status_code == 200
    assert snapshot() == after and Suppression.objects.count() == 1


def test_a_forged_bounce_with_a_guessed_delivery_id_changes_nothing(client, provider):
    fake, bounce = provider
    send_to_two_readers()
    (mail,) = fake.to("gone@example.com")
    target = Delivery.objects.get(subscriber__email="bystander@example.com")
    forged = {**mail, "metadata": {**mail["metadata"], "delivery": str(target.pk)}}
    before = snapshot()
    assert post_event(client, fake.name, bounce(forged, "bystander@example.com")).status_code == (
        200
    )
    assert snapshot() == before
