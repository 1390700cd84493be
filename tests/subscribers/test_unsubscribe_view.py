import pytest
from django.test import Client
from django.urls import reverse

from subscribers.models import Event, Subscription

pytestmark = pytest.mark.django_db


def url(subscription):
    return reverse("subscribers:unsubscribe", kwargs={"token": subscription.token})


def test_get_shows_one_button_and_changes_nothing(client, make_subscription):
    subscription = make_subscription(status=Subscription.Status.CONFIRMED)
    response = client.get(url(subscription))
    assert response.status_code == 200
    assert response.content.decode().count("<button") == 1
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CONFIRMED


def test_one_click_post_without_cookies_or_csrf_unsubscribes_at_once(make_subscription):
    subscription = make_subscription(status=Subscription.Status.CONFIRMED)
    client = Client(enforce_csrf_checks=True)
    response = client.post(url(subscription), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert not response.cookies
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.UNSUBSCRIBED
    assert subscription.unsubscribed_at is not None
    event = Event.objects.get(kind=Event.Kind.UNSUBSCRIBED)
    assert event.reason == Event.Reason.ONE_CLICK


def test_one_click_as_multipart_works_too_and_repeating_is_harmless(make_subscription):
    subscription = make_subscription(status=Subscription.Status.CONFIRMED)
    client = Client(enforce_csrf_checks=True)
    for _ in range(2):
        response = client.post(
            url(subscription), data={"List-Unsubscribe": "One-Click"}, format="multipart"
        )
        assert response.status_code == 200
    assert Event.objects.filter(kind=Event.Kind.UNSUBSCRIBED).count() == 1


def test_the_page_button_unsubscribes_with_reason_link(client, make_subscription):
    subscription = make_subscription(status=Subscription.Status.CONFIRMED)
    response = client.post(url(subscription))
    assert response.status_code == 200
    assert b"You are unsubscribed" in response.content
    assert Event.objects.get(kind=Event.Kind.UNSUBSCRIBED).reason == Event.Reason.LINK


def test_an_unknown_token_is_404(client, db):
    assert client.post("/u/not-a-real-token/", {"List-Unsubscribe": "One-Click"}).status_code == 404
