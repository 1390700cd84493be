"""A reader in a real browser, without JavaScript: the archive is readable and accessible."""

import pytest

from tests.e2e.conftest import (  # noqa: F401
    PHONE,
    app_server,
    browser,
    mailbox,
    open_page,
    save_screenshots,
    serious_axe_violations,
)
from tests.factories import make_issue, make_newsletter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BODY = """## What happened

Hello {{ name | default: "reader" }}. A [link](https://example.com/) and a table:

| Item | Price |
|------|------:|
| Tea  | 3.50  |

> A quote.
"""


def test_a_reader_reads_an_issue_without_javascript(app_server, open_page):  # noqa: F811
    newsletter = make_newsletter()
    make_issue(newsletter, subject="The first issue", body_markdown=BODY)

    page = open_page(javascript=False, viewport=PHONE)
    page.goto(app_server.url + "/weekly/")
    page.click("text=The first issue")

    assert page.locator("h1").inner_text() == "The first issue"
    assert page.locator(".issue-body").inner_text().startswith("What happened")
    assert "Hello reader." in page.locator(".issue-body").inner_text()
    assert page.locator("form.signup-form button[type=submit]").is_visible()
    # No horizontal scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    save_screenshots(page, "archive-issue")


def test_archive_pages_have_no_serious_accessibility_problems(app_server, open_page):  # noqa: F811
    newsletter = make_newsletter()
    make_issue(newsletter, subject="The first issue", body_markdown=BODY)
    page = open_page(bypass_csp=True)  # lets the test inject axe-core; the app is unchanged

    for path in ("/", "/weekly/", "/weekly/first-issue/"):
        page.goto(app_server.url + path)
        assert serious_axe_violations(page) == [], path
    save_screenshots(page, "archive-landing")
