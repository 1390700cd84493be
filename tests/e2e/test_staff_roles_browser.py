"""Staff roles in a real browser: an editor writes issues but is offered no way to send."""

import pytest
from playwright.sync_api import expect

from newsletter.models import Issue, Newsletter
from staff.roles import AUTHOR, EDITOR
from tests.staff.staff_users import PASSWORD, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, url, username):
    page.goto(url)
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()


def test_an_editor_sees_the_issue_but_no_send_button(fresh_app_server, open_page):
    newsletter = Newsletter.objects.create(
        name="Garden Notes", slug="garden", from_name="Garden Notes", from_email="n@example.org"
    )
    issue = Issue.objects.create(newsletter=newsletter, subject="Hello", slug="hello")
    make_staff("editor", role=EDITOR)
    make_staff("writer", role=AUTHOR)
    change_url = f"{fresh_app_server.url}/admin/newsletter/issue/{issue.pk}/change/"

    page = open_page()
    sign_in(page, change_url, "editor")
    expect(page.locator("#id_subject")).to_have_value("Hello")
    expect(page.locator("#rb-send-progress")).to_be_visible()
    expect(page.get_by_role("button", name="Send now to all readers")).to_have_count(0)
    expect(page.get_by_role("button", name="Send a test to me")).to_have_count(0)
    page.goto(f"{fresh_app_server.url}/admin/")
    expect(page.get_by_role("link", name="Issues")).to_be_visible()
    expect(page.get_by_role("link", name="Dev outbox")).to_have_count(0)

    # The same page for an author has the buttons: the difference is the role alone.
    author_page = open_page()
    sign_in(author_page, change_url, "writer")
    expect(author_page.get_by_role("button", name="Send now to all readers")).to_be_visible()
