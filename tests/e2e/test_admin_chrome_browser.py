"""The admin's frame in a real browser: favicon without a 404, Recent actions under the
app list, the issue editor and the embed snippet without horizontal overflow on a phone."""

import pytest
from django.contrib.auth.models import User

from tests.e2e.conftest import app_server, browser, mailbox, open_page  # noqa: F401
from tests.factories import make_issue, make_newsletter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_WIDTH = 390


@pytest.fixture
def admin_page(app_server, open_page):  # noqa: F811
    def open_(viewport=None):
        if not User.objects.filter(username="chrome").exists():
            User.objects.create_superuser("chrome", "chrome@example.org", "a-long-pass-phrase")
        page = open_page(viewport=viewport)
        page.all_responses = []
        page.on("response", lambda r: page.all_responses.append((r.status, r.url)))
        page.goto(app_server.url + "/admin/login/")
        page.fill("#id_username", "chrome")
        page.fill("#id_password", "a-long-pass-phrase")
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/")
        return page

    return open_


def assert_favicon_loaded(page):
    page.wait_for_load_state("networkidle")
    assert [r for r in page.all_responses if r[0] >= 400] == []
    icons = [r for r in page.all_responses if r[1].endswith("/static/img/favicon.svg")]
    assert icons and icons[0][0] in (200, 304)


def test_admin_and_public_pages_load_a_favicon_without_a_404(admin_page, app_server):  # noqa: F811
    newsletter = make_newsletter()
    page = admin_page()
    assert_favicon_loaded(page)
    assert page.title().startswith("Rundbrief")

    page.all_responses.clear()
    page.goto(app_server.url + newsletter.get_absolute_url())
    assert_favicon_loaded(page)


def test_recent_actions_sit_beside_the_app_list_not_pushed_under_it(admin_page):
    page = admin_page(viewport={"width": 1280, "height": 900})

    apps = page.locator("#content-main").bounding_box()
    recent = page.locator("#content-related").bounding_box()
    assert abs(recent["y"] - apps["y"]) <= 2  # the sidebar starts level with the app list
    assert recent["x"] >= apps["x"] + apps["width"] - 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280


def test_the_issue_editor_fits_a_phone(admin_page, app_server):  # noqa: F811
    issue = make_issue(make_newsletter(), sent=False, body_markdown="Start")
    page = admin_page(viewport={"width": PHONE_WIDTH, "height": 844})

    page.goto(f"{app_server.url}/admin/newsletter/issue/{issue.pk}/change/")
    page.locator("textarea.rb-editor").wait_for()

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH


def test_the_embed_snippet_stays_inside_its_box(admin_page, app_server):  # noqa: F811
    newsletter = make_newsletter()
    page = admin_page(viewport={"width": PHONE_WIDTH, "height": 844})

    page.goto(f"{app_server.url}/admin/newsletter/newsletter/{newsletter.pk}/change/")
    snippet = page.locator(".rb-embed-code")
    snippet.wait_for()

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    box = snippet.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH
    # The code wraps or scrolls inside the box; it does not spill over its edge.
    spill = snippet.evaluate(
        "pre => getComputedStyle(pre).overflowX === 'visible' && pre.scrollWidth > pre.clientWidth"
    )
    assert not spill
    page.set_viewport_size({"width": 1280, "height": 900})
    box = snippet.bounding_box()
    fieldset = snippet.locator("xpath=ancestor::fieldset").bounding_box()
    assert box["x"] + box["width"] <= min(1280, fieldset["x"] + fieldset["width"])
