"""The status vocabulary on the models: active subscriptions, hard suppressions, import jobs."""

import pytest

from subscribers.hashing import email_hash
from subscribers.models import ImportJob, Subscription, Suppression

pytestmark = pytest.mark.django_db


def test_active_subscriptions_are_the_pending_and_the_confirmed(make_subscription):
    for status in Subscription.Status.values:
        make_subscription(f"{status}@example.org", status=status)
    active = Subscription.objects.active().values_list("status", flat=True)
    assert sorted(active) == ["confirmed", "pending"]


def test_suppressions_of_addresses_are_found_by_any_spelling_of_them():
    Suppression.objects.create(email_hash=email_hash("gone@example.org"), reason="bounced")
    Suppression.objects.create(email_hash=email_hash("left@example.org"), reason="erased")
    found = Suppression.objects.of(["Gone@Example.org ", "left@example.org", "new@example.org"])
    assert found.count() == 2
    assert list(found.hard().values_list("reason", flat=True)) == ["bounced"]


def test_queued_and_running_jobs_are_unfinished(newsletter):
    for status in ImportJob.Status.values:
        ImportJob.objects.create(newsletter=newsletter, status=status, upload_name=status)
    unfinished = ImportJob.objects.unfinished().values_list("status", flat=True)
    assert sorted(unfinished) == ["queued", "running"]
    finished = [job.status for job in ImportJob.objects.all() if job.finished]
    assert sorted(finished) == ["done", "failed"]
