"""Public pages speak German to a German browser (LocaleMiddleware + the de catalogue)."""

import pytest
from django.test import Client

from tests.factories import make_draft, make_newsletter

pytestmark = pytest.mark.django_db


@pytest.fixture
def gartenpost():
    """A newsletter with its own name and consent text, to find in the German pages."""
    return make_newsletter(slug="gartenpost", name="Gartenpost", consent_text="Ja, bitte.")


def get(path, accept_language):
    return Client().get(path, HTTP_ACCEPT_LANGUAGE=accept_language)


def page(path, accept_language, status=200):
    response = get(path, accept_language)
    assert response.status_code == status
    return response, response.content.decode()


@pytest.mark.parametrize("accept_language", ["de", "de-DE,de;q=0.9,en;q=0.5", "en-US", ""])
def test_a_german_newsletters_signup_page_is_german_for_any_browser(gartenpost, accept_language):
    gartenpost.language = "de"
    gartenpost.save()
    response, html = page("/gartenpost/subscribe/", accept_language)
    assert '<html lang="de">' in html
    assert response["Content-Language"] == "de"
    assert "Gartenpost abonnieren" in html  # the heading, with the name filled in
    assert "E-Mail-Adresse" in html  # a form label from Python code (gettext_lazy)
    assert ">Abonnieren</button>" in html
    assert "Zum Inhalt springen" in html  # base.html
    assert "Subscribe to" not in html and "Email address" not in html


def test_an_english_newsletters_signup_page_stays_english_for_every_browser(gartenpost):
    for accept_language in ("en-GB,en;q=0.8", "fr-FR", "", "de-DE"):
        response, html = page("/gartenpost/subscribe/", accept_language)
        assert '<html lang="en">' in html
        assert "Subscribe to Gartenpost" in html and "Email address" in html
        assert "abonnieren" not in html


def test_the_site_index_is_german_for_a_german_browser():
    _response, html = page("/", "de")
    assert "<h1>Newsletter</h1>" in html
    assert "Es gibt noch keine öffentlichen Newsletter." in html
    _response, html = page("/", "en")
    assert "There are no public newsletters yet." in html


def test_a_german_newsletters_archive_is_german_whatever_the_browser(gartenpost):
    gartenpost.language = "de"
    gartenpost.save()
    make_draft(gartenpost, slug="erste", subject="Erste Ausgabe")
    response, html = page("/gartenpost/", "en-US,en;q=0.9")
    assert response["Content-Language"] == "de"
    assert '<html lang="de">' in html
    assert "Gartenpost abonnieren" in html  # the signup form on the landing page


def test_a_confirmation_link_page_is_german_for_a_german_browser():
    _response, html = page("/confirm/not-a-valid-token/", "de", status=400)
    assert "Dieser Link funktioniert nicht" in html
    assert "Neuen Link senden" in html


def test_a_german_request_does_not_leak_into_the_next_one(gartenpost):
    # The same thread serves both: each request must choose its language afresh.
    page("/gartenpost/subscribe/", "de")
    _response, html = page("/gartenpost/subscribe/", "en")
    assert "Subscribe to Gartenpost" in html and "abonnieren" not in html
