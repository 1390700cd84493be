"""An author looks at a newsletter's statistics in a real browser, in light and dark mode."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from tests.e2e.conftest import (  # noqa: F401
    PHONE,
    app_server,
    browser,
    mailbox,
    open_page,
    save_screenshots,
    serious_axe_violations,
)
from tests.factories import populate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-pass-phrase"


def log_in(page, app_server):  # noqa: F811
    page.goto(app_server.url + "/admin/login/")
    page.fill("#id_username", "author")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


@pytest.fixture(autouse=True)
def twelve_weeks_of_history(newsletter):
    """An author to sign in, and the newsletter's readers and sends of the last twelve weeks."""
    User.objects.create_superuser("author", "author@example.org", PASSWORD)
    populate(newsletter, readers=60, issues=3, start=timezone.now() - timedelta(weeks=12))


def test_the_author_finds_the_statistics_and_reads_the_charts(app_server, open_page, newsletter):  # noqa: F811
    page = open_page()
    log_in(page, app_server)

    page.goto(app_server.url + "/admin/newsletter/newsletter/")
    page.click(f"a[href$='/newsletter/{newsletter.pk}/statistics/']")
    page.wait_for_url("**/statistics/")

    assert page.locator(".rb-card dd").first.inner_text() == "60"
    gained = page.locator(".rb-weekly rect.rb-bar-gained")
    assert gained.count() >= 2
    assert page.locator(".rb-issues tbody tr").count() == 3
    # The numbers behind the chart are one click away.
    page.click(".rb-weekly + details summary")
    assert page.locator(".rb-weekly + details tbody tr").count() == 26
    # stats.css is applied (it overrides the SVG's fallback fill) and nothing was refused.
    fill = gained.first.evaluate("bar => getComputedStyle(bar).fill")
    assert fill == "rgb(29, 111, 184)"
    assert page.console_errors == []
    assert page.failed_responses == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    save_screenshots(page, "admin-newsletter-stats")


def test_in_dark_mode_the_bars_take_the_lighter_colours(app_server, open_page, newsletter):  # noqa: F811
    page = open_page(color_scheme="dark", viewport=PHONE)
    log_in(page, app_server)

    page.goto(f"{app_server.url}/admin/newsletter/newsletter/{newsletter.pk}/statistics/")

    fill = page.locator(".rb-weekly rect.rb-bar-gained").first.evaluate(
        "bar => getComputedStyle(bar).fill"
    )
    assert fill == "rgb(108, 182, 245)"
    # On a phone the page does not scroll sideways (the issues table scrolls inside itself).
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    save_screenshots(page, "admin-newsletter-stats-dark")


def test_the_statistics_page_has_no_serious_accessibility_problems(
    app_server,  # noqa: F811
    open_page,  # noqa: F811
    newsletter,
):
    page = open_page(bypass_csp=True)  # lets the test inject axe-core; the app is unchanged
    log_in(page, app_server)

    page.goto(f"{app_server.url}/admin/newsletter/newsletter/{newsletter.pk}/statistics/")

    assert serious_axe_violations(page) == []
