"""What a new reader meets in the first hour: confirmation by a person, the newsletter's
language throughout, the preference centre, the limits and a revisited unsubscribe link."""

import re

import pytest
from django.core import mail
from django.test import Client

from newsletter.models import Newsletter
from subscribers.models import Event, Subscriber, Subscription
from subscribers.tasks import send_confirmation_task
from subscribers.tokens import confirmation_token
from tests.factories import signup_data
from tests.subscribers.conftest import run_queued_signups

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def german(db):
    return Newsletter.objects.create(
        name="Gartenpost",
        slug="gartenpost",
        language="de",
        from_name="Gartenpost",
        from_email="post@example.org",
        consent_text="Ja, schickt mir die Gartenpost.",
    )


def english_client(**options):
    return Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9", **options)


# --- confirmation needs a person ------------------------------------------------------
def test_the_confirm_page_has_no_script_that_submits_it(make_subscription):
    subscription = make_subscription()
    html = Client().get(f"/confirm/{confirmation_token(subscription)}/").content.decode()
    assert "data-auto-submit" not in html
    assert "subscribers-confirm.js" not in html
    assert 'name="csrfmiddlewaretoken"' in html
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.PENDING


def test_a_confirming_post_needs_the_pages_csrf_token(make_subscription):
    subscription = make_subscription()
    client = Client(enforce_csrf_checks=True)
    path = f"/confirm/{confirmation_token(subscription)}/"
    assert client.post(path).status_code == 403
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.PENDING
    page = client.get(path).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert client.post(path, {"csrfmiddlewaretoken": csrf}).status_code == 200
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CONFIRMED


@pytest.mark.parametrize(
    ("mode", "stored"), [("store", "203.0.113.77"), ("truncate", "203.0.113.0"), ("drop", None)]
)
def test_the_confirmation_event_keeps_the_user_agent_and_the_ip_as_configured(
    make_subscription, settings, mode, stored
):
    settings.CONSENT_IP_MODE = mode
    subscription = make_subscription()
    Client(HTTP_USER_AGENT=FIREFOX, REMOTE_ADDR="203.0.113.77").post(
        f"/confirm/{confirmation_token(subscription)}/"
    )
    event = Event.objects.get(kind=Event.Kind.CONFIRMED)
    assert event.data["user_agent"] == FIREFOX
    assert event.data["ip"] == stored


def test_a_very_long_user_agent_is_kept_shortened(make_subscription):
    subscription = make_subscription()
    Client(HTTP_USER_AGENT="X" * 5000).post(f"/confirm/{confirmation_token(subscription)}/")
    assert len(Event.objects.get(kind=Event.Kind.CONFIRMED).data["user_agent"]) == 255


# --- the newsletter's language, whatever the browser ------------------------------------
def test_a_german_newsletters_form_with_a_typo_comes_back_in_german(german):
    client = english_client()
    response = client.post("/gartenpost/subscribe/", signup_data("ada@example"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="de">' in html
    assert response["Content-Language"] == "de"
    assert "E-Mail-Adresse" in html and "Email address" not in html


def test_a_german_newsletters_thanks_page_and_mail_are_german_for_an_english_browser(
    german, django_capture_on_commit_callbacks
):
    client = english_client()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post("/gartenpost/subscribe/", signup_data("ada@example.org"))
    run_queued_signups(callbacks)
    thanks = client.get(response["Location"])
    assert thanks["Content-Language"] == "de"
    assert "Bitte prüfen Sie Ihr Postfach" in thanks.content.decode()
    assert Subscriber.objects.get().language == "de"


def test_the_confirmation_mail_is_in_the_newsletters_language_not_the_readers(
    german, make_subscription
):
    subscription = make_subscription(to=german)
    Subscriber.objects.filter(pk=subscription.subscriber_id).update(language="en")
    send_confirmation_task(subscription.pk)
    assert "Gartenpost" in mail.outbox[0].subject
    assert "Please confirm" not in mail.outbox[0].subject


def test_the_confirm_confirmed_and_unsubscribe_pages_are_german(german, make_subscription):
    subscription = make_subscription(to=german)
    client = english_client()
    path = f"/confirm/{confirmation_token(subscription)}/"
    for response in (client.get(path), client.post(path)):
        assert response["Content-Language"] == "de", response.content.decode()
        assert '<html lang="de">' in response.content.decode()
    assert "Vielen Dank!" in client.get(path).content.decode()
    unsubscribe_page = client.get(f"/u/{subscription.token}/")
    assert unsubscribe_page["Content-Language"] == "de"
    unsubscribed = client.post(f"/u/{subscription.token}/")
    assert unsubscribed["Content-Language"] == "de"
    assert "Erneut abonnieren" in unsubscribed.content.decode()


def test_the_preference_centre_speaks_the_readers_newsletters_language(german, make_subscription):
    subscription = make_subscription(to=german, status=Subscription.Status.CONFIRMED)
    response = english_client().get(f"/preferences/{subscription.subscriber.token}/")
    assert response["Content-Language"] == "de"
    assert "Ihre Abonnements" in response.content.decode()


# --- the preference centre ------------------------------------------------------------
def test_the_preference_centre_lists_only_the_readers_own_newsletters(
    newsletter, other_newsletter, make_subscription
):
    Newsletter.objects.create(
        name="Secret Club", slug="club", from_email="c@example.org", archive_public=False
    )
    subscription = make_subscription(status=Subscription.Status.CONFIRMED)
    html = Client().get(f"/preferences/{subscription.subscriber.token}/").content.decode()
    own = re.search(r'<fieldset class="newsletter-choice">(.*?)</fieldset>', html, re.S).group(1)
    assert "Garden Notes" in own
    assert "Kitchen Letters" not in own and "Secret Club" not in own
    assert "Secret Club" not in html


def test_adding_a_newsletter_in_the_preference_centre_shows_and_records_its_consent(
    newsletter, other_newsletter, make_subscription
):
    other_newsletter.consent_text = "Yes, send me the Kitchen Letters."
    other_newsletter.save()
    subscription = make_subscription(status=Subscription.Status.CONFIRMED)
    path = f"/preferences/{subscription.subscriber.token}/"
    html = Client().get(path).content.decode()
    assert "Yes, send me the Kitchen Letters." in html
    response = Client().post(
        path, {"name": "", "newsletters": [newsletter.pk], "add": [other_newsletter.pk]}
    )
    assert response.status_code == 302
    added = Subscription.objects.get(newsletter=other_newsletter)
    assert added.status == Subscription.Status.CONFIRMED
    assert added.source == Subscription.Source.PREFERENCES
    assert added.consent_text == "Yes, send me the Kitchen Letters."
    assert added.consent_version == other_newsletter.consent_version
    event = Event.objects.get(kind=Event.Kind.CONFIRMED, newsletter=other_newsletter)
    assert event.data["source"] == "preferences"
    assert event.data["consent_text"] == "Yes, send me the Kitchen Letters."
    assert event.data["consent_version"] == other_newsletter.consent_version


def test_the_own_newsletter_list_refuses_a_newsletter_the_reader_never_had(
    newsletter, other_newsletter, make_subscription
):
    subscription = make_subscription(status=Subscription.Status.CONFIRMED)
    path = f"/preferences/{subscription.subscriber.token}/"
    response = Client().post(
        path, {"name": "", "newsletters": [newsletter.pk, other_newsletter.pk]}
    )
    assert response.status_code == 200
    assert not Subscription.objects.filter(newsletter=other_newsletter).exists()


# --- limits ---------------------------------------------------------------------------
def test_the_429_page_says_when_to_try_again(newsletter, settings):
    settings.SIGNUP_RATE_PER_IP_PER_HOUR = 1
    client = Client()
    client.post("/garden/subscribe/", signup_data("a@example.org"))
    response = client.post("/garden/subscribe/", signup_data("b@example.org"))
    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 3600
    minutes = (retry_after + 59) // 60
    assert f"{minutes} minute" in response.content.decode()


def test_thirty_people_behind_one_address_can_all_sign_up(
    newsletter, django_capture_on_commit_callbacks
):
    client = Client(REMOTE_ADDR="198.51.100.9")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for number in range(30):
            response = client.post("/garden/subscribe/", signup_data(f"p{number}@example.org"))
            assert response.status_code == 302, number
    assert len(run_queued_signups(callbacks)) == 30


def test_invalid_attempts_are_limited_apart_from_real_signups(newsletter, settings):
    settings.SIGNUP_INVALID_PER_IP_PER_HOUR = 5
    client = Client(REMOTE_ADDR="198.51.100.10")
    statuses = [
        client.post("/garden/subscribe/", signup_data("not-an-address")).status_code
        for _ in range(8)
    ]
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429] * 3
    bots = [
        client.post("/garden/subscribe/", signup_data("x@example.org", website="x")).status_code
        for _ in range(2)
    ]
    assert bots == [429, 429]
    # A real signup from the same room still goes through.
    assert client.post("/garden/subscribe/", signup_data("ok@example.org")).status_code == 302


# --- a revisited unsubscribe link -------------------------------------------------------
def test_a_revisited_unsubscribe_link_still_offers_to_subscribe_again(make_subscription):
    subscription = make_subscription(status=Subscription.Status.UNSUBSCRIBED)
    html = Client().get(f"/u/{subscription.token}/").content.decode()
    assert "Subscribe again" in html
    assert 'href="/garden/subscribe/"' in html
