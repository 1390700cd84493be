import json

import pytest
from django.urls import reverse

from subscribers.models import Event, Subscriber, Subscription, Suppression
from subscribers.suppression import is_suppressed

pytestmark = pytest.mark.django_db


def url(subscriber, name="preferences"):
    return reverse(f"subscribers:{name}", kwargs={"token": subscriber.token})


def test_the_page_lists_the_sites_newsletters_with_the_active_ones_ticked(
    client, make_subscription, other_newsletter
):
    subscriber = make_subscription(status=Subscription.Status.CONFIRMED).subscriber
    html = client.get(url(subscriber)).content.decode()
    assert "Garden Notes" in html and "Kitchen Letters" in html
    assert html.count("checked") == 1
    assert "<legend>" in html


def test_saving_changes_the_name_and_the_chosen_newsletters(
    client, newsletter, other_newsletter, make_subscription
):
    garden = make_subscription(status=Subscription.Status.CONFIRMED)
    subscriber = garden.subscriber
    response = client.post(
        url(subscriber), {"name": "Ada L.", "newsletters": [], "add": [other_newsletter.pk]}
    )
    assert response.status_code == 302
    subscriber.refresh_from_db()
    garden.refresh_from_db()
    kitchen = Subscription.objects.get(newsletter=other_newsletter)
    assert subscriber.name == "Ada L."
    assert garden.status == Subscription.Status.UNSUBSCRIBED
    assert kitchen.status == Subscription.Status.CONFIRMED
    assert kitchen.source == Subscription.Source.PREFERENCES
    assert kitchen.consent_text == other_newsletter.consent_text
    reasons = set(
        Event.objects.filter(kind=Event.Kind.UNSUBSCRIBED).values_list("reason", flat=True)
    )
    assert reasons == {Event.Reason.PREFERENCES}


def test_unsubscribe_from_everything(client, other_newsletter, make_subscription):
    garden = make_subscription(status=Subscription.Status.CONFIRMED)
    make_subscription(status=Subscription.Status.CONFIRMED, to=other_newsletter)
    client.post(url(garden.subscriber, "preferences_unsubscribe_all"))
    statuses = set(Subscription.objects.values_list("status", flat=True))
    assert statuses == {Subscription.Status.UNSUBSCRIBED}


def test_download_my_data_is_a_json_attachment_by_post_only(client, make_subscription):
    subscription = make_subscription(status=Subscription.Status.CONFIRMED, consent_text="Yes")
    subscriber = subscription.subscriber
    assert client.get(url(subscriber, "preferences_export")).status_code == 405
    response = client.post(url(subscriber, "preferences_export"))
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["email"] == "reader@example.org"
    assert data["subscriptions"][0]["newsletter"] == "Garden Notes"
    assert data["subscriptions"][0]["consent_text"] == "Yes"
    assert Event.objects.filter(kind=Event.Kind.EXPORTED, subscriber=subscriber).exists()


def test_erasure_needs_the_box_ticked(client, make_subscription):
    subscriber = make_subscription().subscriber
    response = client.post(url(subscriber, "preferences_erase"), {})
    assert response.status_code == 200
    assert b"Please tick the box" in response.content
    assert Subscriber.objects.exists()


def test_erasure_keeps_only_the_keyed_hash(client, make_subscription):
    subscriber = make_subscription().subscriber
    get = client.get(url(subscriber, "preferences_erase"))
    assert get.status_code == 200 and Subscriber.objects.exists()
    response = client.post(url(subscriber, "preferences_erase"), {"sure": "on"})
    assert response.status_code == 302
    assert not Subscriber.objects.exists()
    assert not Subscription.objects.exists()
    assert is_suppressed("Reader@example.org")
    suppression = Suppression.objects.get()
    assert "reader" not in suppression.email_hash
    assert list(Event.objects.values_list("kind", "subscriber")) == [(Event.Kind.ERASED, None)]
    assert client.get(url(subscriber)).status_code == 404


def test_an_unknown_token_is_404(client, db):
    assert client.get("/preferences/unknown-token/").status_code == 404


def test_erasure_keeps_anonymous_counts_for_the_statistics(client, make_subscription):
    subscription = make_subscription(status=Subscription.Status.CONFIRMED)
    subscriber = subscription.subscriber
    Event.objects.create(
        subscriber=subscriber,
        newsletter=subscription.newsletter,
        kind=Event.Kind.CONFIRMED,
        data={"ip": "203.0.113.0"},
    )
    client.post(url(subscriber, "preferences_erase"), {"sure": "on"})
    events = Event.objects.order_by("id").values_list("kind", "newsletter", "subscriber", "data")
    newsletter = subscription.newsletter_id
    assert list(events) == [
        (Event.Kind.CONFIRMED, newsletter, None, {}),  # still counted, no longer personal
        (Event.Kind.ERASED, newsletter, None, {}),  # a reader lost by this newsletter
    ]


@pytest.mark.parametrize(
    "name", ["Ada\r\nBcc: x@example.org", "Ada\nL", "Ada\x00L", "Ada\x1bL", "Ada\u2028L"]
)
def test_a_name_with_control_characters_is_refused_and_nothing_changes(
    client, newsletter, make_subscription, name
):
    subscription = make_subscription(status=Subscription.Status.CONFIRMED)
    subscriber = subscription.subscriber
    Subscriber.objects.filter(pk=subscriber.pk).update(name="Ada")
    response = client.post(url(subscriber), {"name": name, "newsletters": []})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    subscriber.refresh_from_db()
    subscription.refresh_from_db()
    assert subscriber.name == "Ada"
    assert subscription.status == Subscription.Status.CONFIRMED
