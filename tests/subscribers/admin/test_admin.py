import csv
import io

import pytest

from subscribers.models import Event, Subscriber, Subscription, Suppression
from subscribers.suppression import email_hash

pytestmark = pytest.mark.django_db

LIST = "/admin/subscribers/subscription/"


def test_the_list_shows_counts_per_status_and_searches(admin_client, make_subscription):
    make_subscription("a@example.org", status=Subscription.Status.CONFIRMED)
    make_subscription("b@example.org", status=Subscription.Status.CONFIRMED)
    make_subscription("c@example.org")
    response = admin_client.get(LIST)
    counts = dict(response.context_data["status_counts"])
    assert counts["Confirmed"] == 2 and counts["Pending confirmation"] == 1
    found = admin_client.get(LIST, {"q": "b@example"})
    assert [s.subscriber.email for s in found.context_data["cl"].result_list] == ["b@example.org"]
    filtered = admin_client.get(LIST, {"status__exact": "pending"})
    assert dict(filtered.context_data["status_counts"])["Confirmed"] == 0


def test_bulk_unsubscribe_goes_through_the_service(admin_client, make_subscription):
    subscription = make_subscription(status=Subscription.Status.CONFIRMED)
    admin_client.post(
        LIST, {"action": "unsubscribe_selected", "_selected_action": [subscription.pk]}
    )
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.UNSUBSCRIBED
    assert Event.objects.get(kind=Event.Kind.UNSUBSCRIBED).reason == Event.Reason.ADMIN


def test_bulk_resend_queues_only_pending(
    admin_client, make_subscription, django_capture_on_commit_callbacks
):
    pending = make_subscription("p@example.org")
    confirmed = make_subscription("c@example.org", status=Subscription.Status.CONFIRMED)
    with django_capture_on_commit_callbacks() as callbacks:
        admin_client.post(
            LIST,
            {
                "action": "resend_confirmation_selected",
                "_selected_action": [pending.pk, confirmed.pk],
            },
        )
    assert len(callbacks) == 1
    assert (
        Event.objects.get(kind=Event.Kind.CONFIRMATION_SENT).subscriber_id == pending.subscriber_id
    )


def test_export_action_gives_a_safe_csv(admin_client, make_subscription):
    subscription = make_subscription(status=Subscription.Status.CONFIRMED)
    Subscriber.objects.filter(pk=subscription.subscriber_id).update(name="@evil")
    response = admin_client.post(
        LIST, {"action": "export_selected", "_selected_action": [subscription.pk]}
    )
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[1][:2] == ["reader@example.org", "'@evil"]


def test_the_subscriber_page_shows_the_event_history(admin_client, make_subscription):
    subscription = make_subscription()
    Event.objects.create(subscriber=subscription.subscriber, kind=Event.Kind.SUBSCRIBED)
    response = admin_client.get(
        f"/admin/subscribers/subscriber/{subscription.subscriber_id}/change/"
    )
    assert response.status_code == 200
    assert "Signed up" in response.content.decode()


def test_erase_action_leaves_only_the_hash(admin_client, make_subscription):
    subscriber = make_subscription().subscriber
    admin_client.post(
        "/admin/subscribers/subscriber/",
        {"action": "erase_people", "_selected_action": [subscriber.pk]},
    )
    assert not Subscriber.objects.exists()
    assert Suppression.objects.get().email_hash == email_hash("reader@example.org")


def test_subscriber_filters_by_newsletter_and_status(
    admin_client, make_subscription, other_newsletter
):
    make_subscription("a@example.org", status=Subscription.Status.CONFIRMED)
    make_subscription("b@example.org", to=other_newsletter)
    response = admin_client.get(
        "/admin/subscribers/subscriber/", {"newsletter": other_newsletter.pk, "status": "pending"}
    )
    assert [s.email for s in response.context_data["cl"].result_list] == ["b@example.org"]


def test_blocking_an_address_stores_only_its_hash(admin_client, db):
    admin_client.post("/admin/subscribers/suppression/add/", {"email": "Spam@Example.org"})
    suppression = Suppression.objects.get()
    assert suppression.email_hash == email_hash("spam@example.org")
    assert suppression.reason == Suppression.Reason.ADMIN
