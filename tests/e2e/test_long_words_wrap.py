"""A long URL, a link with tracking parameters or a long word never makes a mail or an
archive page wider than the screen: looked at in a real browser from 320 to 600 px."""

import re

import pytest
from django.utils import timezone

from newsletter.models import Issue, Newsletter
from newsletter.rendering import Recipient, render_issue
from subscribers.emails import confirmation_message, welcome_message
from subscribers.models import Subscriber, Subscription
from tests.e2e.conftest import save_screenshots

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = (320, 390, 600)
LONG_URL = "https://example.org/archive/" + "/".join(
    f"section-{n:03d}-of-the-path" for n in range(12)
)
UTM_URL = (
    "https://shop.example.org/seeds/tomatoes?utm_source=newsletter&utm_medium=email"
    "&utm_campaign=garden_notes_2026_spring&utm_content=header_link"
)
LONG_WORD = "Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft"
BODY = f"""Hello {{{{ name | default: "gardener" }}}},

the whole list is at {LONG_URL} for anyone who wants it.

The seeds are [in the shop]({UTM_URL}), or copy this: {UTM_URL}

{LONG_WORD} is a word, and so is `{LONG_WORD}`.
"""


@pytest.fixture
def issue():
    assert len(LONG_URL) >= 300
    newsletter = Newsletter.objects.create(
        name="Garden Notes",
        slug="garden",
        from_name="Garden Notes",
        from_email="notes@example.org",
        welcome_enabled=True,
        welcome_subject="Welcome",
        welcome_body=BODY,
    )
    return Issue.objects.create(
        newsletter=newsletter,
        subject=f"News: {LONG_WORD}",
        slug="long-words",
        body_markdown=BODY,
        status=Issue.Status.SENT,
        sent_at=timezone.now(),
    )


def reader_subscription(newsletter, status):
    subscriber = Subscriber.objects.create(email="ada@example.org", name="Ada")
    return Subscription.objects.create(subscriber=subscriber, newsletter=newsletter, status=status)


def overflow_at(page, widths=WIDTHS):
    """{width: document scroll width} for each viewport width it is wider than."""
    wider = {}
    for width in widths:
        page.set_viewport_size({"width": width, "height": 800})
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            wider[width] = scroll_width
    return wider


def without_style_blocks(html):
    # What Gmail shows for some accounts: only the inline styles are left.
    return re.sub(r"<style\b.*?</style>", "", html, flags=re.S)


def issue_mail_html(issue):
    reader = Recipient(
        email="ada@example.org",
        name="Ada",
        unsubscribe_url="https://news.example.org/u/abcdefghijklmnopqrstuvwx/",
        preferences_url="https://news.example.org/preferences/abcdefghijklmnopqrstuvwx/",
        web_url="https://news.example.org/garden/long-words/",
    )
    return render_issue(issue).personalise(reader)[1]


@pytest.mark.parametrize("style_blocks", ["kept", "stripped"])
def test_the_issue_mail_wraps_long_urls_and_words(issue, open_page, style_blocks):
    html = issue_mail_html(issue)
    assert LONG_URL in html and LONG_WORD in html
    page = open_page()
    page.set_content(html if style_blocks == "kept" else without_style_blocks(html))
    assert overflow_at(page) == {}
    if style_blocks == "kept":
        save_screenshots(page, "mail-long-urls")


def test_the_confirmation_and_welcome_mails_wrap_long_urls(issue, open_page):
    pending = reader_subscription(issue.newsletter, Subscription.Status.PENDING)
    confirmation = confirmation_message(pending).alternatives[0][0]
    pending.status = Subscription.Status.CONFIRMED
    pending.save()
    welcome = welcome_message(pending).alternatives[0][0]
    page = open_page()
    for html in (confirmation, welcome, without_style_blocks(welcome)):
        page.set_content(html)
        assert overflow_at(page) == {}


def test_the_archive_issue_page_wraps_long_urls_and_words(issue, app_server, open_page):
    page = open_page()
    response = page.goto(app_server.url + issue.get_absolute_url())
    assert response.status == 200
    assert page.get_by_text(LONG_WORD).first.is_visible()
    assert overflow_at(page) == {}
