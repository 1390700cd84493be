"""Services enqueue tasks by their registered name, once the transaction commits."""

import pytest

from config.celery import app
from subscribers import queue, services

pytestmark = pytest.mark.django_db


class SentTasks(list):
    def send_task(self, name, kwargs):
        self.append((name, kwargs))


@pytest.fixture
def sent(monkeypatch):
    tasks = SentTasks()
    monkeypatch.setattr(queue, "current_app", tasks)
    return tasks


def test_nothing_is_sent_before_the_commit(sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queue.enqueue("subscribers.send_welcome", subscription_id=7)
    assert sent == []
    callbacks[0]()
    assert sent == [("subscribers.send_welcome", {"subscription_id": 7})]


def test_a_signup_queues_its_confirmation_by_name(
    sent, newsletter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        subscription = services.subscribe(
            newsletter=newsletter, email="reader@example.org", source="form"
        )
    assert sent == [("subscribers.send_confirmation", {"subscription_id": subscription.pk})]


@pytest.mark.parametrize(
    ("name", "queue_name"),
    [
        ("subscribers.send_confirmation", "priority"),
        ("subscribers.send_welcome", "priority"),
        ("subscribers.run_import", "default"),
    ],
)
def test_the_names_the_services_use_are_registered_and_routed(name, queue_name):
    assert name in app.tasks
    assert app.amqp.router.route({}, name)["queue"].name == queue_name
