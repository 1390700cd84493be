from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from subscribers.models import Event, Subscriber, Subscription
from tests.factories import signup_data, stamp
from tests.subscribers.conftest import queued_signups, run_queued_signups

pytestmark = pytest.mark.django_db


def url(newsletter):
    return reverse("subscribers:subscribe", kwargs={"newsletter_slug": newsletter.slug})


def test_the_page_shows_the_newsletters_consent_text_with_labelled_fields(client, newsletter):
    response = client.get(url(newsletter))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Yes, send me Garden Notes." in html
    assert '<label for="id_email">' in html
    assert 'type="email"' in html
    assert "css/subscribers.css" in html
    assert "style=" not in html


def test_a_new_address_becomes_pending_with_consent_evidence(
    client, newsletter, settings, django_capture_on_commit_callbacks
):
    settings.CONSENT_IP_MODE = "truncate"
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            url(newsletter),
            signup_data("Reader@Example.org", name="Ada"),
            REMOTE_ADDR="203.0.113.77",
        )
    assert response.status_code == 302
    assert response["Location"] == f"/{newsletter.slug}/subscribe/thanks/"
    assert not Subscriber.objects.exists()  # the signup itself is the worker's job
    with django_capture_on_commit_callbacks() as mails:
        run_queued_signups(callbacks)
    subscription = Subscription.objects.get()
    assert subscription.subscriber.email == "reader@example.org"
    assert subscription.subscriber.name == "Ada"
    assert subscription.status == Subscription.Status.PENDING
    assert subscription.source == Subscription.Source.FORM
    assert subscription.consent_text == "Yes, send me Garden Notes."
    assert subscription.consent_version == 3
    assert subscription.consent_ip == "203.0.113.0"
    assert subscription.confirmation_sent_at is not None
    assert len(mails) == 1  # the confirmation mail task, queued after commit
    kinds = set(Event.objects.values_list("kind", flat=True))
    assert kinds == {Event.Kind.SUBSCRIBED, Event.Kind.CONFIRMATION_SENT}


@pytest.mark.parametrize(
    ("mode", "expected"), [("store", "203.0.113.77"), ("drop", None), ("truncate", "203.0.113.0")]
)
def test_the_consent_ip_follows_the_configured_mode(
    client, newsletter, settings, mode, expected, django_capture_on_commit_callbacks
):
    settings.CONSENT_IP_MODE = mode
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(url(newsletter), signup_data(), REMOTE_ADDR="203.0.113.77")
    # The full address never reaches the broker when it is not to be stored.
    assert [signup["ip"] for signup in run_queued_signups(callbacks)] == [expected]
    assert Subscription.objects.get().consent_ip == expected


@pytest.mark.parametrize("status", ["pending", "confirmed", "unsubscribed", "new"])
def test_the_answer_is_the_same_for_every_state_of_the_address(
    client, newsletter, make_subscription, status
):
    if status != "new":
        make_subscription(status=status, confirmation_sent_at=timezone.now() - timedelta(hours=1))
    response = client.post(url(newsletter), signup_data())
    assert response.status_code == 302
    assert response["Location"] == f"/{newsletter.slug}/subscribe/thanks/"
    page = client.get(response["Location"])
    assert b"If the address can receive" in page.content


def test_a_confirmed_address_stays_confirmed_and_gets_no_mail(
    client, newsletter, make_subscription, django_capture_on_commit_callbacks
):
    subscription = make_subscription(status=Subscription.Status.CONFIRMED)
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(url(newsletter), signup_data())
    with django_capture_on_commit_callbacks() as mails:
        run_queued_signups(callbacks)
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CONFIRMED
    assert mails == []


def test_the_honeypot_gets_the_same_answer_and_creates_nothing(
    client, newsletter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url(newsletter), signup_data(website="http://spam.example"))
    assert response.status_code == 302
    assert callbacks == []


def test_a_form_sent_faster_than_the_minimum_fill_time_is_refused(
    client, newsletter, settings, django_capture_on_commit_callbacks
):
    settings.SIGNUP_MIN_FILL_SECONDS = 3
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url(newsletter), signup_data(started=stamp(0.5)))
    assert response.status_code == 200
    assert b"That was very quick" in response.content
    assert callbacks == []
    with django_capture_on_commit_callbacks() as callbacks:
        again = client.post(url(newsletter), signup_data(started=stamp(5)))
    assert again.status_code == 302
    assert len(queued_signups(callbacks)) == 1


def test_a_forged_time_stamp_is_refused(
    client, newsletter, settings, django_capture_on_commit_callbacks
):
    settings.SIGNUP_MIN_FILL_SECONDS = 1
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url(newsletter), signup_data(started="1:forged"))
    assert response.status_code == 200
    assert callbacks == []


def test_missing_consent_is_an_error_next_to_the_checkbox(
    client, newsletter, django_capture_on_commit_callbacks
):
    data = signup_data()
    del data["consent"]
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url(newsletter), data)
    assert response.status_code == 200
    assert b"Please tick the box to agree." in response.content
    assert callbacks == []


@pytest.mark.parametrize("address", ["no-at-sign", "a@b", "zo\u00eb@example.org", "x@foo.test"])
def test_invalid_addresses_are_refused_with_a_message(
    client, newsletter, address, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url(newsletter), signup_data(address))
    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert callbacks == []


def test_an_idn_domain_is_accepted(client, newsletter, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url(newsletter), signup_data("leser@B\u00fccher.de"))
    assert response.status_code == 302
    run_queued_signups(callbacks)
    assert Subscriber.objects.get().email == "leser@b\u00fccher.de"


def test_too_many_signups_from_one_ip_get_429(
    client, newsletter, settings, django_capture_on_commit_callbacks
):
    settings.SIGNUP_RATE_PER_IP_PER_HOUR = 2
    with django_capture_on_commit_callbacks() as callbacks:
        codes = [
            client.post(
                url(newsletter), signup_data(f"r{i}@example.org"), REMOTE_ADDR="198.51.100.9"
            ).status_code
            for i in range(3)
        ]
    assert codes == [302, 302, 429]
    assert [signup["email"] for signup in queued_signups(callbacks)] == [
        "r0@example.org",
        "r1@example.org",
    ]
    other_ip = client.post(
        url(newsletter), signup_data("r9@example.org"), REMOTE_ADDR="198.51.100.10"
    )
    assert other_ip.status_code == 302


def test_an_unknown_newsletter_is_404(client, db):
    assert client.get("/nope/subscribe/").status_code == 404


# --- names ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["Ada\r\nBcc: x@example.org", "Ada\nL", "Ada\x00L", "Ada\x1bL", "Ada\u2028L"]
)
def test_a_name_with_control_characters_is_refused_with_a_message(
    client, newsletter, name, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url(newsletter), signup_data(name=name))
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert callbacks == []


def test_a_name_longer_than_200_characters_is_refused(
    client, newsletter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url(newsletter), signup_data(name="a" * 201))
    assert response.context["form"].errors["name"]
    assert callbacks == []


# --- the form's time stamp ----------------------------------------------------------------
def test_a_time_stamp_works_once_and_a_replay_is_answered_like_any_signup(
    client, newsletter, django_capture_on_commit_callbacks
):
    started = stamp(30)
    with django_capture_on_commit_callbacks() as callbacks:
        first = client.post(url(newsletter), signup_data("a@example.org", started=started))
        replay = client.post(url(newsletter), signup_data("b@example.org", started=started))
    assert first.status_code == replay.status_code == 302
    assert first["Location"] == replay["Location"]
    assert [signup["email"] for signup in queued_signups(callbacks)] == ["a@example.org"]


def test_a_stamp_spent_on_a_form_with_errors_still_works_once(
    client, newsletter, django_capture_on_commit_callbacks
):
    started = stamp(30)
    with django_capture_on_commit_callbacks() as callbacks:
        broken = client.post(url(newsletter), signup_data("broken", started=started))
        fixed = client.post(url(newsletter), signup_data("a@example.org", started=started))
    assert broken.status_code == 200 and fixed.status_code == 302
    assert [signup["email"] for signup in queued_signups(callbacks)] == ["a@example.org"]


def test_a_stamp_older_than_its_maximum_age_gets_the_same_answer_and_no_signup(
    client, newsletter, settings, django_capture_on_commit_callbacks
):
    settings.SIGNUP_FORM_MAX_AGE_HOURS = 2
    with django_capture_on_commit_callbacks() as callbacks:
        old = client.post(url(newsletter), signup_data(started=stamp(2 * 3600 + 5)))
        fresh = client.post(url(newsletter), signup_data(started=stamp(2 * 3600 - 5)))
    assert old.status_code == fresh.status_code == 302
    assert old["Location"] == fresh["Location"]
    assert len(queued_signups(callbacks)) == 1


def test_every_page_view_gets_its_own_stamp(client, newsletter):
    stamps = {client.get(url(newsletter)).context["form"]["started"].value() for _ in range(3)}
    assert len(stamps) == 3
