"""The signup answer does the same work whatever state the address is in.

Anything that differs between a new, a pending, a confirmed or a blocked address (rows
read or written, mail queued) happens in the worker, after the answer has gone out, so
neither the answer nor its timing tells a stranger whether someone is a reader.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from subscribers.models import Suppression
from subscribers.suppression import email_hash
from tests.factories import signup_data
from tests.subscribers.conftest import queued_signups

pytestmark = pytest.mark.django_db

STATES = ["new", "pending", "confirmed", "unsubscribed", "bounced", "complained", "suppressed"]


def prepare(state, make_subscription, email):
    if state == "suppressed":
        Suppression.objects.create(email_hash=email_hash(email), reason="complained")
    elif state != "new":
        make_subscription(email, status=state)


def test_every_state_of_the_address_costs_the_same_queries_and_queues_the_same_task(
    client, newsletter, make_subscription, django_capture_on_commit_callbacks
):
    path = reverse("subscribers:subscribe", kwargs={"newsletter_slug": newsletter.slug})
    client.get(path)  # the session and the first-request work out of the way
    work = {}
    for state in STATES:
        email = f"{state}@example.org"
        prepare(state, make_subscription, email)
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks() as callbacks,
        ):
            response = client.post(path, signup_data(email, name="Ada"))
        assert response.status_code == 302
        queued = queued_signups(callbacks)
        work[state] = (
            len(queries),
            len(callbacks),
            [sorted(arguments) for arguments in queued],
            [arguments["email"] for arguments in queued],
        )
    assert {state: figures[:3] for state, figures in work.items()} == {
        state: work["new"][:3] for state in STATES
    }
    assert work["new"][1] == 1
    assert {state: figures[3] for state, figures in work.items()} == {
        state: [f"{state}@example.org"] for state in STATES
    }


def test_a_resend_request_costs_the_same_for_every_state_of_the_address(
    client, newsletter, make_subscription, django_capture_on_commit_callbacks
):
    client.get(reverse("subscribers:resend"))
    work = {}
    for state in STATES:
        email = f"{state}@example.org"
        prepare(state, make_subscription, email)
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks() as callbacks,
        ):
            response = client.post("/resend/", {"email": email, "newsletter": newsletter.slug})
        assert response.status_code == 200
        work[state] = (len(queries), len(callbacks))
    assert work == {state: work["new"] for state in STATES}
    assert work["new"][1] == 1
