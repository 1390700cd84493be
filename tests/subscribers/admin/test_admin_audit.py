"""Every admin action on readers leaves an entry in the admin log: who did what to whom."""

import pytest
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from staff.roles import EDITOR, OWNER
from subscribers.admin import actions as admin_actions
from subscribers.models import Subscriber, Subscription
from subscribers.suppression import email_hash
from tests.staff.staff_users import StaffClient, make_staff

pytestmark = pytest.mark.django_db

SUBSCRIPTIONS = "/admin/subscribers/subscription/"
SUBSCRIBERS = "/admin/subscribers/subscriber/"


@pytest.fixture
def owner():
    return make_staff("owner", role=OWNER)


@pytest.fixture
def client(owner):
    return StaffClient(owner)


def entries_for(model, obj_id):
    content_type = ContentType.objects.get_for_model(model)
    return LogEntry.objects.filter(content_type=content_type, object_id=str(obj_id))


def run_action(client, changelist, action, ids):
    return client.submit(changelist, {"action": action, "_selected_action": ids})


@pytest.mark.parametrize(
    "action, message",
    [
        ("unsubscribe_selected", "Unsubscribed"),
        ("resend_confirmation_selected", "Resent confirmation"),
        ("export_selected", "Exported"),
    ],
)
def test_subscription_actions_are_logged_with_the_actor(
    client, owner, make_subscription, action, message
):
    subscription = make_subscription()
    response = run_action(client, SUBSCRIPTIONS, action, [subscription.pk])
    if action == "export_selected":
        b"".join(response.streaming_content)
    entry = entries_for(Subscription, subscription.pk).get()
    assert (entry.user, entry.action_flag, entry.change_message) == (owner, CHANGE, message)


@pytest.mark.parametrize(
    "action, message",
    [("unsubscribe_people", "Unsubscribed"), ("resend_people", "Resent confirmation")],
)
def test_subscriber_actions_are_logged_with_the_actor(
    client, owner, make_subscription, action, message
):
    subscriber = make_subscription().subscriber
    run_action(client, SUBSCRIBERS, action, [subscriber.pk])
    entry = entries_for(Subscriber, subscriber.pk).get()
    assert (entry.user, entry.action_flag, entry.change_message) == (owner, CHANGE, message)


def test_erasure_is_logged_without_the_address(client, owner, make_subscription):
    subscriber = make_subscription("erase-me@example.org").subscriber
    # An earlier edit through the change form is logged under the address.
    client.submit(
        f"{SUBSCRIBERS}{subscriber.pk}/change/",
        {
            "name": "Erin",
            "language": "",
            "custom_fields": "{}",
            "subscriptions-TOTAL_FORMS": 1,
            "subscriptions-INITIAL_FORMS": 1,
            "subscriptions-0-id": subscriber.subscriptions.get().pk,
            "subscriptions-0-subscriber": subscriber.pk,
            "events-TOTAL_FORMS": 0,
            "events-INITIAL_FORMS": 0,
        },
    )
    assert entries_for(Subscriber, subscriber.pk).get().object_repr == "erase-me@example.org"

    run_action(client, SUBSCRIBERS, "erase_people", [subscriber.pk])

    assert not Subscriber.objects.exists()
    erased = entries_for(Subscriber, subscriber.pk).get(action_flag=DELETION)
    assert (erased.user, erased.change_message) == (owner, "Erased")
    assert erased.object_repr == email_hash("erase-me@example.org")
    for entry in LogEntry.objects.all():
        assert "erase-me" not in f"{entry.object_repr} {entry.change_message}"
        assert "Erin" not in entry.change_message


def test_a_reader_erasing_themselves_leaves_no_address_in_the_admin_log(client, make_subscription):
    subscriber = make_subscription("self@example.org").subscriber
    LogEntry.objects.log_actions(client.session["_auth_user_id"], [subscriber], CHANGE, "Note")
    assert LogEntry.objects.get().object_repr == "self@example.org"

    erase = reverse("subscribers:preferences_erase", kwargs={"token": subscriber.token})
    Client().post(erase, {"sure": "on"})

    assert not Subscriber.objects.exists()
    assert LogEntry.objects.get().object_repr == email_hash("self@example.org")


def test_owners_read_the_trail_in_the_admin_and_nobody_edits_it(client, make_subscription):
    subscriber = make_subscription("gone@example.org").subscriber
    run_action(client, SUBSCRIBERS, "erase_people", [subscriber.pk])
    entry = LogEntry.objects.get(change_message="Erased")

    page = client.get("/admin/admin/logentry/").content.decode()
    assert email_hash("gone@example.org") in page and "Erased" in page
    assert (
        client.submit(f"/admin/admin/logentry/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert LogEntry.objects.filter(pk=entry.pk).exists()
    editor = StaffClient(make_staff("editor", role=EDITOR))
    assert editor.get("/admin/admin/logentry/").status_code == 403


def test_an_export_of_the_whole_list_logs_every_row_in_batches(
    client, owner, make_subscription, monkeypatch
):
    monkeypatch.setattr(admin_actions, "LOG_BATCH", 2)
    ids = [make_subscription(f"r{n}@example.org").pk for n in range(5)]
    response = client.submit(
        SUBSCRIPTIONS,
        {"action": "export_selected", "_selected_action": ids[:1], "select_across": 1},
    )
    assert b"".join(response.streaming_content).count(b"@example.org") == 5
    logged = LogEntry.objects.filter(change_message="Exported", user=owner)
    assert sorted(int(pk) for pk in logged.values_list("object_id", flat=True)) == sorted(ids)
