import time

import pytest
from django.core.cache import cache

from newsletter.models import Newsletter
from subscribers.models import Subscriber, Subscription
from subscribers.tasks import subscribe_task
from subscribers.tokens import form_started_stamp


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    # Rate-limit counters live in the cache; every test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def quick_forms(settings):
    settings.SIGNUP_MIN_FILL_SECONDS = 0


def stamp(seconds_ago):
    """A signup-form time stamp as if the form had been shown `seconds_ago`."""
    return form_started_stamp(now=time.time() - seconds_ago)


@pytest.fixture
def newsletter(db):
    return Newsletter.objects.create(
        name="Garden Notes",
        slug="garden",
        from_name="Garden Notes",
        from_email="notes@example.org",
        consent_text="Yes, send me Garden Notes.",
        consent_version=3,
    )


@pytest.fixture
def other_newsletter(db):
    return Newsletter.objects.create(
        name="Kitchen Letters",
        slug="kitchen",
        from_name="Kitchen",
        from_email="kitchen@example.org",
    )


@pytest.fixture
def make_subscription(newsletter):
    def make(email="reader@example.org", status=Subscription.Status.PENDING, to=None, **extra):
        subscriber, _ = Subscriber.objects.get_or_create(email=email)
        return Subscription.objects.create(
            subscriber=subscriber,
            newsletter=to or newsletter,
            status=status,
            source=Subscription.Source.FORM,
            **extra,
        )

    return make


def signup_data(email="reader@example.org", **extra):
    return {
        "email": email,
        "name": "",
        "consent": "on",
        "website": "",
        "started": stamp(30),
        **extra,
    }


def queued_signups(callbacks):
    """The arguments of the signup tasks that a request queued to run after its commit."""
    return [
        callback.keywords
        for callback in callbacks
        if getattr(getattr(callback.func, "__self__", None), "name", "") == subscribe_task.name
    ]


def run_queued_signups(callbacks):
    """Run the queued signup tasks here, as the worker would; returns their arguments."""
    queued = queued_signups(callbacks)
    for arguments in queued:
        subscribe_task(**arguments)
    return queued
