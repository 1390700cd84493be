"""Every page a reader can reach, looked at in a real browser: no serious or critical
accessibility problem (axe-core), no CSP refusal or script error, and screenshots at
phone and desktop width in test-artifacts/screenshots/ for people to look at. The mails
a reader gets are photographed too, in light and dark mode.
"""

from dataclasses import dataclass

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from newsletter.models import Issue, Newsletter
from newsletter.rendering import Recipient, render_issue
from subscribers.emails import confirmation_message
from subscribers.models import Subscriber, Subscription
from subscribers.tokens import confirmation_token
from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    save_screenshots,
    serious_axe_violations,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ISSUE_BODY = """## Still ripening

Hello {{ name | default: "gardener" }}, the last tomatoes are still on the vine. Pick them
green and let them ripen indoors, in a paper bag with **one ripe banana**.

- Cut back the kale stems
- Mulch the beds with leaves
- Leave a corner wild for the hedgehogs

> “The best time to plant a tree was twenty years ago.”

| Plant | Sown | Harvest |
|-------|------|---------|
| Tomato | March | August |
| Kale | June | November |

Read more on the [allotment society's page](https://example.org/allotment).
"""


@dataclass
class Site:
    """A newsletter with a sent issue and readers in each state, made for one test."""

    newsletter: Newsletter
    issue: Issue
    pending: Subscription
    confirmed: Subscription


@pytest.fixture
def site():
    newsletter = Newsletter.objects.create(
        name="Garden Notes",
        slug="garden",
        description="Monthly notes from a small allotment: what grows, what fails, what’s next.",
        from_name="Garden Notes",
        from_email="notes@example.org",
        footer="Garden Notes · Beetweg 1 · 12345 Berlin",
        consent_text="Yes, send me Garden Notes. I can unsubscribe at any time.",
    )
    issue = Issue.objects.create(
        newsletter=newsletter,
        subject="Tomatoes in November",
        slug="tomatoes-in-november",
        preview_text="The last of the season, and what to do with it",
        body_markdown=ISSUE_BODY,
        status=Issue.Status.SENT,
        sent_at=timezone.now(),
    )
    return Site(
        newsletter=newsletter,
        issue=issue,
        pending=subscription("pending@example.org", newsletter, Subscription.Status.PENDING),
        confirmed=subscription("ada@example.org", newsletter, Subscription.Status.CONFIRMED),
    )


def subscription(email, newsletter, status):
    subscriber = Subscriber.objects.create(email=email, name="Ada")
    return Subscription.objects.create(
        subscriber=subscriber,
        newsletter=newsletter,
        status=status,
        source=Subscription.Source.FORM,
        confirmed_at=timezone.now() if status == Subscription.Status.CONFIRMED else None,
    )


def confirm_path(subscription):
    return reverse("subscribers:confirm", kwargs={"token": confirmation_token(subscription)})


# name -> (path for a Site, whether the page may run its own scripts)
PAGES = {
    "site-index": (lambda site: "/", True),
    "newsletter": (lambda site: site.newsletter.get_absolute_url(), True),
    "signup": (lambda site: f"/{site.newsletter.slug}/subscribe/", True),
    "signup-thanks": (lambda site: f"/{site.newsletter.slug}/subscribe/thanks/", True),
    # The page waits for the reader's click on its button, scripts or none.
    "confirm": (lambda site: confirm_path(site.pending), True),
    # A confirmed reader's link opens the page that a click on that button shows.
    "confirmed": (lambda site: confirm_path(site.confirmed), True),
    "link-invalid": (lambda site: "/confirm/not-a-valid-token/", True),
    "issue": (lambda site: site.issue.get_absolute_url(), True),
    "unsubscribe": (lambda site: f"/u/{site.confirmed.token}/", True),
    "preferences": (lambda site: f"/preferences/{site.confirmed.subscriber.token}/", True),
    "erase": (lambda site: f"/preferences/{site.confirmed.subscriber.token}/erase/", True),
    "resend": (lambda site: "/resend/", True),
}
EXPECTED_STATUS = {"link-invalid": 400}


def open_public_page(open_page, app_server, url, *, scripts, **options):
    page = open_page(**options)
    if not scripts:
        # Scripts stay on (axe needs them), but the page's own are not delivered.
        page.route("**/static/js/**", lambda route: route.abort())
    response = page.goto(app_server.url + url)
    page.wait_for_load_state("networkidle")
    return page, response


@pytest.mark.parametrize("name", PAGES)
def test_a_public_page_is_accessible_and_photographed(name, site, app_server, open_page):
    path_for, scripts = PAGES[name]
    url = path_for(site)

    page, response = open_public_page(open_page, app_server, url, scripts=scripts)
    assert response.status == EXPECTED_STATUS.get(name, 200)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    if name == "confirmed":
        expect(page.get_by_role("heading", level=1)).to_have_text("Thank you!")
    save_screenshots(page, name)
    assert page.console_errors == []  # a CSP refusal would show here
    # Nothing is wider than a phone's screen (no sideways scrolling).
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # axe is injected as a script tag, which the strict CSP rightly refuses; this
    # context alone bypasses the CSP, and only to run the checker.
    checked, _ = open_public_page(open_page, app_server, url, scripts=scripts, bypass_csp=True)
    assert serious_axe_violations(checked) == []


def test_the_mails_are_photographed_in_light_and_dark_mode(site, app_server, open_page, settings):
    settings.SITE_URL = app_server.url  # links in the mails as the worker would write them
    reader = Recipient(
        email="ada@example.org",
        name="Ada",
        unsubscribe_url=f"{app_server.url}/u/{site.confirmed.token}/",
        preferences_url=f"{app_server.url}/preferences/{site.confirmed.subscriber.token}/",
        web_url=app_server.url + site.issue.get_absolute_url(),
    )
    issue_html = render_issue(site.issue).personalise(reader)[1]
    confirmation_html = confirmation_message(site.pending).alternatives[0][0]
    for name, html in (("mail-issue", issue_html), ("mail-confirmation", confirmation_html)):
        for scheme in ("light", "dark"):
            page = open_page(color_scheme=scheme)
            page.set_content(html)
            paths = save_screenshots(page, f"{name}-{scheme}")
            assert all(path.stat().st_size > 5_000 for path in paths)
            if name == "mail-issue":
                # The 600-pixel column fills a phone and stays a column on a desktop.
                page.set_viewport_size(PHONE)
                assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
                page.set_viewport_size(DESKTOP)
                width = page.locator("table.container").bounding_box()["width"]
                assert width == pytest.approx(600, abs=1)
    assert len(list(SCREENSHOTS.glob("mail-*.png"))) >= 8
