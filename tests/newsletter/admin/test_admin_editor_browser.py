"""The issue editor in a real browser: toolbar, live preview under the strict CSP, upload."""

import io
import re

import pytest
from django.contrib.auth.models import User
from PIL import Image
from playwright.sync_api import expect

from subscribers.models import Subscriber, Subscription
from tests.e2e.conftest import app_server, browser, mailbox, open_page, save_screenshots  # noqa: F401
from tests.factories import make_issue, make_newsletter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def author_page(app_server, open_page):  # noqa: F811
    User.objects.create_superuser("author", "author@example.org", "a-long-pass-phrase")
    page = open_page()
    page.goto(app_server.url + "/admin/login/")
    page.fill("#id_username", "author")
    page.fill("#id_password", "a-long-pass-phrase")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    return page


def test_the_author_sees_the_real_mail_while_typing(author_page, app_server, tmp_path):  # noqa: F811
    newsletter = make_newsletter()
    issue = make_issue(newsletter, sent=False, body_markdown="Start")
    page = author_page
    missing = []
    page.on("response", lambda r: r.status >= 400 and missing.append(r.url))
    page.goto(f"{app_server.url}/admin/newsletter/issue/{issue.pk}/change/")

    page.fill("textarea.rb-editor", 'Hello {{ name | default: "there" }}, fresh news.')
    frame = page.frame_locator("iframe.rb-frame-desktop")
    frame.locator("text=Hello Alex Example, fresh news.").wait_for()  # sample values

    # The toolbar wraps the selection in Markdown.
    page.locator("textarea.rb-editor").press("End")
    page.click(".rb-tool-bold")
    assert "**Bold**" in page.input_value("textarea.rb-editor")

    save_screenshots(page, "admin-issue-editor")
    page.click(".rb-tab[data-view=phone]")
    assert page.locator("iframe.rb-frame-phone").is_visible()
    assert page.locator("iframe.rb-frame-phone").bounding_box()["width"] <= 375
    page.click(".rb-tab[data-view=text]")
    page.locator("pre.rb-text", has_text="Hello Alex Example, fresh news.").wait_for()

    image = tmp_path / "chart.png"
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (0, 120, 200)).save(buffer, "PNG")
    image.write_bytes(buffer.getvalue())
    page.set_input_files("#rb-upload-input", str(image))
    expect(page.locator("textarea.rb-editor")).to_have_value(
        re.compile(r"!\[Image\]\(http://127\.0\.0\.1:\d+/media/uploads/.+\.png\)")
    )

    assert missing == []  # every resource of the page and the preview frames loaded
    # No CSP refusal, no script error. (The browser's own /favicon.ico probe, which
    # Playwright does not report as a response, is the only "failed to load" allowed.)
    errors = [e for e in page.console_errors if not e.startswith("Failed to load resource")]
    assert errors == []


def test_the_author_previews_as_a_chosen_reader_and_sees_unknown_fields(
    author_page,
    app_server,  # noqa: F811
):
    newsletter = make_newsletter()
    subscriber = Subscriber.objects.create(
        email="ada@example.org", name="Ada", custom_fields={"Stadt": "Berlin"}
    )
    Subscription.objects.create(
        subscriber=subscriber, newsletter=newsletter, status=Subscription.Status.CONFIRMED
    )
    issue = make_issue(newsletter, sent=False, body_markdown="Start")
    page = author_page
    page.goto(f"{app_server.url}/admin/newsletter/issue/{issue.pk}/change/")

    page.fill("textarea.rb-editor", "Hi {{ name }} in {{ custom.Stadt }} {{ custom.Planet }}.")
    frame = page.frame_locator("iframe.rb-frame-desktop")
    frame.locator("text=Hi Alex Example in [Stadt] .").wait_for()
    expect(page.locator(".rb-warnings")).to_contain_text("{{ custom.Planet }}")

    page.fill("#rb-preview-reader", "ada@example.org")
    frame.locator("text=Hi Ada in Berlin .").wait_for()
    assert page.locator("#rb-readers option[value='ada@example.org']").count() == 1
    assert page.console_errors == []
