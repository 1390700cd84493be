import pytest
from django.core import signing
from django.urls import reverse

from subscribers.models import Event, Subscription, Suppression
from subscribers.suppression import email_hash
from subscribers.tokens import CONFIRM_SALT, confirmation_token

pytestmark = pytest.mark.django_db


def url(subscription):
    return reverse("subscribers:confirm", kwargs={"token": confirmation_token(subscription)})


def test_get_shows_a_page_with_one_button_and_changes_nothing(client, make_subscription):
    subscription = make_subscription()
    response = client.get(url(subscription))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'method="post"' in html
    assert "<script" not in html  # nothing but a person's click submits the form
    assert "<button" in html
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.PENDING
    assert not Event.objects.filter(kind=Event.Kind.CONFIRMED).exists()


def test_a_post_without_the_pages_csrf_token_confirms_nothing(make_subscription):
    from django.test import Client

    subscription = make_subscription()
    response = Client(enforce_csrf_checks=True).post(url(subscription))
    assert response.status_code == 403
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.PENDING
    assert not Event.objects.filter(kind=Event.Kind.CONFIRMED).exists()


def test_post_confirms(client, make_subscription):
    subscription = make_subscription()
    response = client.post(url(subscription))
    assert response.status_code == 200
    assert b"is confirmed" in response.content
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CONFIRMED
    assert subscription.confirmed_at is not None
    assert Event.objects.filter(kind=Event.Kind.CONFIRMED).count() == 1


def test_confirming_twice_is_harmless(client, make_subscription):
    subscription = make_subscription()
    client.post(url(subscription))
    again = client.post(url(subscription))
    assert again.status_code == 200
    assert Event.objects.filter(kind=Event.Kind.CONFIRMED).count() == 1


def test_an_expired_link_shows_a_page_to_ask_for_a_new_one(client, make_subscription, settings):
    subscription = make_subscription()
    link = url(subscription)
    settings.CONFIRMATION_MAX_AGE_DAYS = -1  # every link is now past its age
    for method in (client.get, client.post):
        response = method(link)
        assert response.status_code == 410
        assert b"This link has expired" in response.content
        assert b'action="/resend/"' in response.content
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.PENDING


def test_a_tampered_link_shows_a_clear_page(client, make_subscription):
    subscription = make_subscription()
    forged = signing.TimestampSigner(salt="other").sign(subscription.token)
    response = client.post(reverse("subscribers:confirm", kwargs={"token": forged}))
    assert response.status_code == 400
    assert b"This link does not work" in response.content
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.PENDING


def test_a_link_of_an_unsubscribed_subscription_does_not_resurrect_it(client, make_subscription):
    subscription = make_subscription(status=Subscription.Status.UNSUBSCRIBED)
    signed = signing.TimestampSigner(salt=CONFIRM_SALT).sign(subscription.token)
    response = client.post(reverse("subscribers:confirm", kwargs={"token": signed}))
    assert response.status_code == 400
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.UNSUBSCRIBED


def test_confirming_lifts_an_earlier_erasure_of_the_address(client, make_subscription):
    subscription = make_subscription()
    Suppression.objects.create(email_hash=email_hash("reader@example.org"), reason="erased")
    client.post(url(subscription))
    assert not Suppression.objects.exists()
