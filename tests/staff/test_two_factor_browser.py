"""Two-factor sign-in in a real browser, against gunicorn, under the strict CSP."""

import pytest
from django.contrib.auth.models import User
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.e2e.conftest import (  # noqa: F401
    app_server,
    browser,
    mailbox,
    open_page,
    save_screenshots,
    serious_axe_violations,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-pass-phrase"


def code_for(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def fill_sign_in(page, url, token=""):
    page.goto(url + "/admin/login/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", token)
    page.click("input[type=submit]")


def test_a_staff_member_signs_in_with_password_and_app_code(app_server, open_page):  # noqa: F811
    user = User.objects.create_user("editor", password=PASSWORD, is_staff=True)
    device = TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    page = open_page()
    fill_sign_in(page, app_server.url)
    assert page.locator(".errornote").is_visible()
    assert "/admin/login/" in page.url
    save_screenshots(page, "admin-sign-in-two-factor")
    checked = open_page(bypass_csp=True)  # lets the test inject axe-core; the app is unchanged
    checked.goto(app_server.url + "/admin/login/")
    assert serious_axe_violations(checked) == []

    fill_sign_in(page, app_server.url, token=code_for(device))
    page.wait_for_url("**/admin/")
    assert page.locator("#user-tools").is_visible()
    assert page.console_errors == []


def test_the_setup_page_shows_the_qr_code_under_the_csp(app_server, open_page):  # noqa: F811
    User.objects.create_user("editor", password=PASSWORD, is_staff=True)
    page = open_page(locale="de-DE")
    page.goto(app_server.url + "/admin/login/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    page.click("text=Zwei-Faktor-Anmeldung")
    page.wait_for_url("**/admin/two-factor/")
    qr_width = page.locator("img.rb-qr").evaluate("img => img.naturalWidth")
    assert qr_width > 0
    assert page.console_errors == []
    save_screenshots(page, "admin-two-factor-setup")

    device = TOTPDevice.objects.get(user__username="editor", confirmed=False)
    page.fill("#id_token", code_for(device))
    page.click("input[type=submit]")
    page.locator(".rb-backup-codes li").first.wait_for()
    assert page.locator(".rb-backup-codes li").count() == 10
    device.refresh_from_db()
    assert device.confirmed
