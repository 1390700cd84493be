import pytest
from django.test import Client

from subscribers.embed import embed_snippet
from subscribers.models import Subscriber, Subscription
from tests.subscribers.conftest import run_queued_signups

pytestmark = pytest.mark.django_db


def test_a_cross_site_post_without_csrf_cookie_signs_up(
    newsletter, settings, django_capture_on_commit_callbacks
):
    settings.SIGNUP_MIN_FILL_SECONDS = 60  # the embedded form cannot carry a time stamp
    client = Client(enforce_csrf_checks=True)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            "/embed/garden/subscribe/",
            {"email": "visitor@example.org", "consent": "on", "website": ""},
            HTTP_ORIGIN="https://blog.example.net",
        )
    assert response.status_code == 302
    run_queued_signups(callbacks)
    subscription = Subscription.objects.get()
    assert subscription.source == Subscription.Source.EMBED
    assert subscription.status == Subscription.Status.PENDING


def test_the_embed_honeypot_creates_nothing(newsletter, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = Client(enforce_csrf_checks=True).post(
            "/embed/garden/subscribe/",
            {"email": "bot@example.org", "consent": "on", "website": "x"},
        )
    assert response.status_code == 302
    assert callbacks == []


@pytest.mark.parametrize(
    "name", ["Ada\r\nBcc: x@example.org", "Ada\nL", "Ada\x00L", "Ada\x1bL", "Ada\u2028L"]
)
def test_an_embed_post_with_a_control_character_in_the_name_is_refused(
    newsletter, name, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = Client(enforce_csrf_checks=True).post(
            "/embed/garden/subscribe/",
            {"email": "visitor@example.org", "name": name, "consent": "on", "website": ""},
        )
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert callbacks == []
    assert not Subscriber.objects.exists()


def test_an_invalid_embed_post_shows_our_own_form_with_errors(newsletter):
    response = Client(enforce_csrf_checks=True).post(
        "/embed/garden/subscribe/", {"email": "broken", "consent": "on"}
    )
    assert response.status_code == 200
    assert b"Enter a valid email address." in response.content
    assert b'action="/garden/subscribe/"' in response.content


def test_the_snippet_posts_to_the_embed_endpoint_without_script_or_style(newsletter):
    snippet = embed_snippet(newsletter)
    assert 'action="http://testserver/embed/garden/subscribe/"' in snippet
    assert 'name="email"' in snippet and 'name="consent"' in snippet and 'name="website"' in snippet
    assert "Yes, send me Garden Notes." in snippet
    assert "<script" not in snippet and "style=" not in snippet
