"""A new reader's first hour, in a real browser with real mail: an English browser on a
German newsletter (a typo, the thanks page, the mail, confirming), a page whose scripts
run but which confirms only on the reader's click, and subscribing again at once after
unsubscribing."""

import re

import pytest
from playwright.sync_api import expect

from newsletter.models import Newsletter
from subscribers.models import Event, Subscription
from tests.conftest import wait_for
from tests.e2e.mails import html_part, subject_of, translated

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

READER = "grete@example.org"
CONSENT = "Ja, schickt mir die Gartenpost."


def de(msgid, **values):
    return translated("de", msgid, **values)


@pytest.fixture
def gartenpost():
    return Newsletter.objects.create(
        name="Gartenpost",
        slug="gartenpost",
        language="de",
        from_name="Gartenpost",
        from_email="post@example.org",
        consent_text=CONSENT,
    )


def confirmation_mails(inbox, count):
    subject = de("Please confirm your subscription to %(name)s", name="Gartenpost")
    mails = wait_for(
        lambda: len(inbox.to(READER)) >= count and inbox.to(READER),
        timeout=30,
        message=f"{count} confirmation mail(s) to {READER}",
    )
    assert [subject_of(mail) for mail in mails] == [subject] * count
    return mails


def sign_up(page, url):
    page.goto(url)
    page.get_by_label(de("Email address")).fill(READER)
    page.get_by_label(CONSENT).check()
    page.get_by_role("button", name=de("Subscribe"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(de("Check your inbox"))


def subscription():
    return wait_for(
        Subscription.objects.filter(subscriber__email=READER).first,
        timeout=30,
        message="the signup in the worker",
    )


def test_an_english_browser_meets_german_pages_and_mail_and_confirms_by_its_own_click(
    app_server, worker, inbox, open_page, gartenpost
):
    page = open_page(locale="en-US", javascript=True)
    signup = f"{app_server.url}/gartenpost/subscribe/"

    # A typo: the form comes back with a German message, still German around it.
    page.goto(signup)
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.get_by_label(de("Email address")).fill("grete@example")
    page.get_by_label(CONSENT).check()
    page.get_by_role("button", name=de("Subscribe"), exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_text(de("Enter a valid email address."))).to_be_visible()
    assert "Email address" not in page.content()

    sign_up(page, signup)
    expect(page.locator("html")).to_have_attribute("lang", "de")
    mail = confirmation_mails(inbox, 1)[0]

    # Opening the link with scripts on (as a gateway's link check does) confirms nothing.
    page.set_content(html_part(mail))
    page.get_by_role("link", name=de("Confirm my subscription")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(de("Confirm your subscription"))
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.wait_for_timeout(1500)  # time enough for any script to have submitted the form
    assert subscription().status == Subscription.Status.PENDING

    page.get_by_role("button", name=de("Yes, confirm my subscription")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(de("Thank you!"))
    expect(page.locator("html")).to_have_attribute("lang", "de")
    assert subscription().status == Subscription.Status.CONFIRMED
    evidence = Event.objects.get(kind=Event.Kind.CONFIRMED).data
    assert evidence["user_agent"] == page.evaluate("navigator.userAgent")
    assert evidence["ip"] == "127.0.0.0"  # CONSENT_IP_MODE=truncate, the default


def test_subscribing_again_right_after_unsubscribing_sends_a_new_confirmation(
    app_server, worker, inbox, open_page, gartenpost
):
    page = open_page(locale="en-US")
    sign_up(page, f"{app_server.url}/gartenpost/subscribe/")
    page.set_content(html_part(confirmation_mails(inbox, 1)[0]))
    page.get_by_role("link", name=de("Confirm my subscription")).click()
    page.get_by_role("button", name=de("Yes, confirm my subscription")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(de("Thank you!"))

    page.goto(f"{app_server.url}/u/{subscription().token}/")
    page.get_by_role("button", name=de("Unsubscribe")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(de("You are unsubscribed"))
    # The unsubscribe link opened again later still offers the way back.
    page.goto(f"{app_server.url}/u/{subscription().token}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(de("You are unsubscribed"))
    page.get_by_role("link", name=de("Subscribe again")).click()
    assert re.search(r"/gartenpost/subscribe/$", page.url)
    page.get_by_label(de("Email address")).fill(READER)
    page.get_by_label(CONSENT).check()
    page.get_by_role("button", name=de("Subscribe"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(de("Check your inbox"))

    confirmation_mails(inbox, 2)
