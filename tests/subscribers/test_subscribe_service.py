from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from subscribers import services
from subscribers.models import Event, Subscriber, Subscription, Suppression
from subscribers.suppression import email_hash

pytestmark = pytest.mark.django_db


def signup(newsletter, email="reader@example.org"):
    return services.subscribe(
        newsletter=newsletter, email=email, source=Subscription.Source.FORM, ip="192.0.2.1"
    )


def mails_queued(callbacks):
    return len(callbacks)


def test_a_repeat_signup_of_a_pending_address_resends_after_the_interval(
    newsletter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as first:
        subscription = signup(newsletter)
    with django_capture_on_commit_callbacks() as immediate:
        signup(newsletter)
    Subscription.objects.filter(pk=subscription.pk).update(
        confirmation_sent_at=timezone.now() - timedelta(minutes=5)
    )
    with django_capture_on_commit_callbacks() as later:
        signup(newsletter)
    assert (mails_queued(first), mails_queued(immediate), mails_queued(later)) == (1, 0, 1)


def test_confirmation_mails_per_address_are_capped_per_day_across_newsletters(
    newsletter, other_newsletter, settings, django_capture_on_commit_callbacks
):
    """The form must not be usable to flood someone else's inbox."""
    settings.SIGNUP_RATE_PER_ADDRESS_PER_DAY = 2
    queued = 0
    for attempt in range(4):
        with django_capture_on_commit_callbacks() as callbacks:
            subscription = signup(
                newsletter if attempt % 2 else other_newsletter, "victim@example.org"
            )
        queued += len(callbacks)
        Subscription.objects.filter(pk=subscription.pk).update(confirmation_sent_at=None)
    assert queued == 2
    assert Event.objects.filter(kind=Event.Kind.CONFIRMATION_SENT).count() == 2


def test_resubscribing_after_unsubscribing_needs_double_opt_in_again(
    newsletter, make_subscription, django_capture_on_commit_callbacks
):
    subscription = make_subscription(status=Subscription.Status.UNSUBSCRIBED)
    with django_capture_on_commit_callbacks() as callbacks:
        signup(newsletter)
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.PENDING
    assert subscription.consent_version == newsletter.consent_version
    assert len(callbacks) == 1


@pytest.mark.parametrize("status", [Subscription.Status.BOUNCED, Subscription.Status.COMPLAINED])
def test_bounced_or_complained_subscriptions_are_not_reopened_by_a_form(
    newsletter, make_subscription, status, django_capture_on_commit_callbacks
):
    subscription = make_subscription(status=status)
    with django_capture_on_commit_callbacks() as callbacks:
        signup(newsletter)
    subscription.refresh_from_db()
    assert subscription.status == status
    assert callbacks == []


def test_a_hard_suppressed_address_gets_nothing(newsletter, django_capture_on_commit_callbacks):
    Suppression.objects.create(email_hash=email_hash("reader@example.org"), reason="complained")
    with django_capture_on_commit_callbacks() as callbacks:
        assert signup(newsletter) is None
    assert not Subscription.objects.exists()
    assert callbacks == []


def test_an_erased_address_may_sign_up_again_by_double_opt_in(newsletter):
    Suppression.objects.create(email_hash=email_hash("reader@example.org"), reason="erased")
    subscription = signup(newsletter)
    assert subscription.status == Subscription.Status.PENDING
    services.confirm_subscription(subscription=subscription)
    assert not Suppression.objects.exists()


def named_signup(newsletter, name, email="reader@example.org"):
    return services.subscribe(
        newsletter=newsletter, email=email, name=name, source=Subscription.Source.FORM
    )


@pytest.mark.parametrize("old_name", ["Ada Lovelace", ""])
@pytest.mark.parametrize(
    "status",
    [
        Subscription.Status.CONFIRMED,
        Subscription.Status.PENDING,
        Subscription.Status.UNSUBSCRIBED,
        Subscription.Status.BOUNCED,
    ],
)
def test_a_signup_never_renames_an_existing_reader(newsletter, make_subscription, status, old_name):
    subscription = make_subscription(status=status)
    Subscriber.objects.filter(pk=subscription.subscriber_id).update(name=old_name)
    named_signup(newsletter, "Mallory")
    subscription.subscriber.refresh_from_db()
    assert subscription.subscriber.name == old_name


def test_a_signup_for_another_newsletter_does_not_rename_a_confirmed_reader(
    newsletter, other_newsletter, make_subscription
):
    subscription = make_subscription(status=Subscription.Status.CONFIRMED, to=other_newsletter)
    named_signup(newsletter, "Mallory")
    subscription.subscriber.refresh_from_db()
    assert subscription.subscriber.name == ""
    assert Subscription.objects.get(newsletter=newsletter).status == Subscription.Status.PENDING


def test_a_new_reader_gets_the_name_given_at_signup(newsletter):
    subscription = named_signup(newsletter, "  Ada Lovelace ")
    assert subscription.subscriber.name == "Ada Lovelace"


def test_a_name_with_a_line_break_is_refused_and_nothing_is_written(
    newsletter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ValidationError):
        named_signup(newsletter, "Ada\r\nBcc: victim@example.org")
    assert not Subscriber.objects.exists()
    assert callbacks == []
