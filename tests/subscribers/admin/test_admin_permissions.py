"""Who may act on readers in the admin: every bulk action needs its own permission."""

import pytest

from staff.roles import AUTHOR, OWNER
from subscribers.models import Event, Subscriber, Subscription, Suppression
from tests.staff.staff_users import StaffClient, make_staff

pytestmark = pytest.mark.django_db

SUBSCRIPTIONS = "/admin/subscribers/subscription/"
SUBSCRIBERS = "/admin/subscribers/subscriber/"
VIEW_ONLY = ("subscribers.view_subscriber", "subscribers.view_subscription")
CHANGE = (
    *VIEW_ONLY,
    "subscribers.change_subscriber",
    "subscribers.change_subscription",
)


@pytest.fixture
def pending(make_subscription):
    return make_subscription("pending@example.org")


@pytest.fixture
def confirmed(make_subscription):
    return make_subscription("confirmed@example.org", status=Subscription.Status.CONFIRMED)


def run_action(client, changelist, action, ids):
    return client.submit(changelist, {"action": action, "_selected_action": ids})


def assert_nothing_changed(response, pending, confirmed):
    # The admin answers "no such action" (a redirect, or the list again), or refuses.
    assert response.status_code in (200, 302, 403)
    assert not response.get("Content-Type", "").startswith("text/csv")
    assert Subscriber.objects.count() == 2 and not Suppression.objects.exists()
    statuses = dict(Subscription.objects.values_list("pk", "status"))
    assert statuses == {pending.pk: "pending", confirmed.pk: "confirmed"}
    assert not Event.objects.exists()  # no confirmation queued, no unsubscription


@pytest.mark.parametrize(
    "changelist, action",
    [
        (SUBSCRIPTIONS, "unsubscribe_selected"),
        (SUBSCRIPTIONS, "resend_confirmation_selected"),
        (SUBSCRIPTIONS, "export_selected"),
        (SUBSCRIBERS, "unsubscribe_people"),
        (SUBSCRIBERS, "resend_people"),
        (SUBSCRIBERS, "erase_people"),
    ],
)
def test_view_only_staff_cannot_run_any_reader_action(changelist, action, pending, confirmed):
    client = StaffClient(make_staff("viewer", permissions=VIEW_ONLY))
    ids = (
        [pending.pk, confirmed.pk]
        if changelist == SUBSCRIPTIONS
        else [pending.subscriber_id, confirmed.subscriber_id]
    )
    assert client.get(changelist).status_code == 200
    response = run_action(client, changelist, action, ids)
    assert_nothing_changed(response, pending, confirmed)


def test_view_only_staff_are_not_offered_the_actions(pending):
    client = StaffClient(make_staff("viewer", permissions=VIEW_ONLY))
    page = client.get(SUBSCRIBERS).content.decode() + client.get(SUBSCRIPTIONS).content.decode()
    for action in ("unsubscribe", "resend", "erase", "export"):
        assert f'value="{action}' not in page


def test_changing_readers_does_not_allow_erasing_or_exporting(pending, confirmed):
    client = StaffClient(make_staff("helper", permissions=CHANGE))
    ids = [pending.subscriber_id, confirmed.subscriber_id]
    assert_nothing_changed(run_action(client, SUBSCRIBERS, "erase_people", ids), pending, confirmed)
    response = run_action(client, SUBSCRIPTIONS, "export_selected", [pending.pk, confirmed.pk])
    assert_nothing_changed(response, pending, confirmed)
    # What the permission does cover still works.
    run_action(client, SUBSCRIPTIONS, "unsubscribe_selected", [confirmed.pk])
    assert Subscription.objects.get(pk=confirmed.pk).status == "unsubscribed"


def test_an_author_cannot_erase_or_export(pending, confirmed):
    client = StaffClient(make_staff("author", role=AUTHOR))
    ids = [pending.subscriber_id, confirmed.subscriber_id]
    assert_nothing_changed(run_action(client, SUBSCRIBERS, "erase_people", ids), pending, confirmed)
    response = run_action(client, SUBSCRIPTIONS, "export_selected", [pending.pk, confirmed.pk])
    assert_nothing_changed(response, pending, confirmed)


def test_an_owner_can_export_and_erase(pending, confirmed):
    client = StaffClient(make_staff("owner", role=OWNER))
    response = run_action(client, SUBSCRIPTIONS, "export_selected", [pending.pk, confirmed.pk])
    assert response["Content-Type"].startswith("text/csv")
    assert b"confirmed@example.org" in b"".join(response.streaming_content)
    run_action(client, SUBSCRIBERS, "erase_people", [pending.subscriber_id])
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["confirmed@example.org"]
    assert Suppression.objects.get().reason == Suppression.Reason.ERASED


def test_the_plain_delete_stays_off_even_for_owners(pending):
    client = StaffClient(make_staff("owner", role=OWNER))
    page = client.get(SUBSCRIBERS).content.decode()
    assert 'value="erase_people"' in page and 'value="delete_selected"' not in page
    url = f"{SUBSCRIBERS}{pending.subscriber_id}/delete/"
    assert client.submit(url, {"post": "yes"}).status_code == 403
    assert Subscriber.objects.filter(pk=pending.subscriber_id).exists()
