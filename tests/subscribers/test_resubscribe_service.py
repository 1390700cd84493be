"""An unsubscribe ends the resend throttle, but never the per-address cap on mails."""

import pytest

from subscribers import services
from subscribers.models import Event, Subscription

pytestmark = pytest.mark.django_db


def sent(newsletter):
    return Event.objects.filter(kind=Event.Kind.CONFIRMATION_SENT, newsletter=newsletter).count()


def test_a_signup_right_after_an_unsubscribe_requests_a_new_mail(newsletter):
    subscription = services.subscribe(
        newsletter=newsletter, email="ada@example.org", source=Subscription.Source.FORM
    )
    services.unsubscribe(subscription=subscription, reason=Event.Reason.LINK)
    services.subscribe(
        newsletter=newsletter, email="ada@example.org", source=Subscription.Source.FORM
    )
    assert sent(newsletter) == 2


def test_a_pending_signup_sent_again_at_once_is_still_throttled(newsletter):
    for _ in range(2):
        services.subscribe(
            newsletter=newsletter, email="ada@example.org", source=Subscription.Source.FORM
        )
    assert sent(newsletter) == 1


def test_unsubscribing_and_subscribing_in_a_loop_stops_at_the_daily_cap(newsletter, settings):
    settings.SIGNUP_RATE_PER_ADDRESS_PER_DAY = 2
    for _ in range(4):
        subscription = services.subscribe(
            newsletter=newsletter, email="ada@example.org", source=Subscription.Source.FORM
        )
        services.unsubscribe(subscription=subscription, reason=Event.Reason.LINK)
    assert sent(newsletter) == 2
