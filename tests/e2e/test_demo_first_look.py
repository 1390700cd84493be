"""The first look after `make run`: the demo newsletter's page lists a sample issue that
opens in the browser, and the author's statistics page has readers and a send on it."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import expect

from newsletter.models import Newsletter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_demo_has_an_issue_to_read_and_statistics_to_look_at(
    fresh_app_server, open_page, settings
):
    settings.RUNDBRIEF_ENV = "development"  # seed_demo runs in make run's setup only
    call_command("seed_demo", stdout=StringIO())
    newsletter = Newsletter.objects.get(slug="demo")
    page = open_page()
    page.goto(f"{fresh_app_server.url}/demo/")
    page.get_by_role("link", name="Welcome to Rundbrief · Willkommen bei Rundbrief").click()
    expect(page.get_by_role("heading", name="What Markdown does here")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Hallo zusammen")

    admin = get_user_model().objects.get(username="admin")  # the login seed_demo printed
    admin.set_password("pass-phrase-1")
    admin.save()
    page.goto(f"{fresh_app_server.url}/admin/newsletter/newsletter/{newsletter.pk}/statistics/")
    page.locator("#id_username").fill("admin")
    page.locator("#id_password").fill("pass-phrase-1")
    page.locator("input[type=submit]").click()
    expect(page.locator("#content")).to_contain_text("Welcome to Rundbrief")
    assert page.failed_responses == [] and page.console_errors == []
