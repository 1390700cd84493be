"""A German newsletter mails in German: confirmation, welcome and issue, whoever sends them.

Mails are built outside a request (in a worker, or here with English active), so each
mail path must switch to the newsletter's (or reader's) language itself.
"""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from newsletter import sending
from subscribers.models import Subscription
from subscribers.tasks import send_confirmation_task, send_welcome_task
from tests.factories import make_draft, make_newsletter, signup_data, subscribe
from tests.newsletter.sending.send_helpers import drain


@pytest.fixture(autouse=True)
def english_outside():
    """English is what a worker has active: German must come from the mail path."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    # Signup rate limits count per address in the cache (Redis), across test runs.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def gartenpost(db, settings):
    settings.SIGNUP_MIN_FILL_SECONDS = 0
    settings.CONFIRMATION_MAX_AGE_DAYS = 7
    return make_newsletter(
        slug="gartenpost", name="Gartenpost", from_name="Gartenpost", language="de"
    )


def parts(message):
    """(subject, text, html) of a message from mail.outbox."""
    return message.subject, message.body, message.alternatives[0][0]


@pytest.mark.django_db
def test_the_confirmation_mail_is_german(gartenpost):
    subscription = subscribe(gartenpost, "anna@example.com", status="pending")
    send_confirmation_task(subscription_id=subscription.pk)
    subject, text, html = parts(mail.outbox[0])
    assert subject == "Bitte bestätigen Sie Ihr Abonnement von Gartenpost"
    assert "jemand (hoffentlich Sie) möchte Gartenpost an diese Adresse erhalten." in text
    assert "Der Link ist 7 Tage gültig." in text  # the plural form
    assert ">Abonnement bestätigen<" in html
    assert "<strong>Gartenpost</strong>" in html
    assert "confirm" not in subject.lower() and "Please" not in text


@pytest.mark.django_db
def test_the_welcome_mail_is_german(gartenpost):
    gartenpost.welcome_enabled = True
    gartenpost.welcome_subject = "Willkommen!"
    gartenpost.welcome_body = "Schön, dass Sie da sind."
    gartenpost.save()
    subscription = subscribe(gartenpost, "anna@example.com")
    send_welcome_task(subscription_id=subscription.pk)
    _subject, text, html = parts(mail.outbox[0])
    assert f"Abmelden: http://testserver/u/{subscription.token}/" in text
    assert "Einstellungen verwalten: http://testserver/preferences/" in text
    assert ">Abmelden</a>" in html
    assert "Unsubscribe" not in text


@pytest.mark.django_db
def test_an_issue_of_a_german_newsletter_is_mailed_in_german(gartenpost, smtp_server):
    subscribe(gartenpost, "anna@example.com", name="Anna")
    issue = make_draft(gartenpost, slug="erste", subject="Neues aus dem Garten")
    sending.start_send(issue=issue)
    drain(issue)
    message = smtp_server.wait_for_mail("anna@example.com")[0].message
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Sie erhalten diese E-Mail, weil Sie Gartenpost abonniert haben." in text
    assert "Abmelden: http://testserver/u/" in text
    assert "Einstellungen verwalten: http://testserver/preferences/" in text
    assert ">Abmelden</a>" in html and ">Einstellungen verwalten</a>" in html
    assert "because you subscribed" not in text + html


@pytest.mark.django_db
def test_an_issue_of_an_english_newsletter_stays_english(gartenpost, smtp_server):
    gartenpost.language = "en"
    gartenpost.save()
    subscribe(gartenpost, "anna@example.com")
    issue = make_draft(gartenpost, slug="first")
    with translation.override("de"):  # a German admin pressing "send" changes nothing
        sending.start_send(issue=issue)
        drain(issue)
    text = smtp_server.wait_for_mail("anna@example.com")[0].message.get_body(("plain",))
    assert "You receive this mail because you subscribed to Gartenpost." in text.get_content()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_reader_with_a_german_browser_gets_a_german_mail_from_the_worker(
    celery_worker, smtp_server, gartenpost
):
    client = Client(HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    response = client.post("/gartenpost/subscribe/", signup_data("anna@example.com"))
    assert response.status_code == 302
    assert "Bitte prüfen Sie Ihr Postfach" in client.get(response["Location"]).content.decode()

    message = smtp_server.wait_for_mail("anna@example.com")[0].message
    assert message["Subject"] == "Bitte bestätigen Sie Ihr Abonnement von Gartenpost"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Zum Bestätigen öffnen Sie diesen Link:" in text
    path = re.search(r"http://testserver(/confirm/\S+/)", text).group(1)
    page = client.get(path).content.decode()
    assert "Ja, Abonnement bestätigen" in page
    assert Subscription.objects.get().status == Subscription.Status.PENDING
