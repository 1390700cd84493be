"""Fixtures of the signup tests: a newsletter that asks for consent, clean rate limits, and
the signup tasks a request queued."""

import pytest
from django.core.cache import cache

from newsletter.models import Newsletter
from subscribers.models import Subscription
from subscribers.tasks import subscribe_task
from tests.factories import subscribe


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    # Rate-limit counters live in the cache; every test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def quick_forms(settings):
    settings.SIGNUP_MIN_FILL_SECONDS = 0


@pytest.fixture
def newsletter(db):
    """Here the newsletter asks for consent in its own words (signups record the version)."""
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
        return subscribe(
            to or newsletter, email, status=status, source=Subscription.Source.FORM, **extra
        )

    return make


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
