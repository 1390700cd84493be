import pytest

from subscribers.models import Subscriber, Subscription
from subscribers.tasks import resend_confirmation_task, subscribe_task

pytestmark = pytest.mark.django_db


def signup_arguments(newsletter, **overrides):
    return {
        "newsletter_id": newsletter.pk,
        "email": "reader@example.org",
        "name": "Ada",
        "source": Subscription.Source.EMBED,
        "ip": "203.0.113.0",
        "language": "de",
        **overrides,
    }


def test_it_runs_the_signup_with_the_arguments_the_form_queued(
    newsletter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as mails:
        subscribe_task(**signup_arguments(newsletter))
    subscription = Subscription.objects.select_related("subscriber").get()
    assert (subscription.status, subscription.source) == ("pending", "embed")
    assert subscription.consent_ip == "203.0.113.0"
    assert (subscription.subscriber.name, subscription.subscriber.language) == ("Ada", "de")
    assert len(mails) == 1


def test_a_signup_for_a_newsletter_deleted_since_does_nothing(newsletter):
    arguments = signup_arguments(newsletter)
    newsletter.delete()
    subscribe_task(**arguments)
    resend_confirmation_task(newsletter_id=arguments["newsletter_id"], email="reader@example.org")
    assert not Subscriber.objects.exists()
