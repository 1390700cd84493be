"""The self-service two-factor page, and the mode that requires two-factor for superusers."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

SETUP = "/admin/two-factor/"


def code_for(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.fixture
def editor(django_user_model, client):
    user = django_user_model.objects.create_user("editor", password="pass-phrase-1", is_staff=True)
    client.force_login(user)
    return user


def test_the_page_shows_a_qr_code_and_the_secret(client, editor):
    response = client.get(SETUP)
    assert response.status_code == 200
    page = response.content.decode()
    device = TOTPDevice.objects.get(user=editor, confirmed=False)
    assert 'src="data:image/svg+xml' in page
    assert response.context["secret"].replace(" ", "") in page.replace(" ", "")
    assert "otpauth://" in device.config_url


def test_the_first_code_confirms_the_device_and_shows_backup_codes(client, editor):
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=editor)
    response = client.post(SETUP, {"token": code_for(device)})
    assert response.status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    codes = response.context["backup_codes"]
    assert len(codes) == 10 and all(code in response.content.decode() for code in codes)
    assert StaticDevice.objects.get(user=editor).token_set.count() == 10
    # This session was verified by the first code and stays in.
    assert client.get("/admin/").status_code == 200


def test_a_wrong_first_code_leaves_the_device_unconfirmed(client, editor):
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=editor)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    response = client.post(SETUP, {"token": wrong})
    assert "That code is not right" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert not StaticDevice.objects.filter(user=editor).exists()


def test_it_can_be_turned_off_when_not_required(client, editor):
    client.get(SETUP)
    client.post(SETUP, {"token": code_for(TOTPDevice.objects.get(user=editor))})
    client.post(SETUP + "off/")
    assert not TOTPDevice.objects.filter(user=editor).exists()
    assert not StaticDevice.objects.filter(user=editor).exists()


@pytest.fixture
def superuser(django_user_model, client):
    user = django_user_model.objects.create_superuser("root", "root@example.org", "pass-phrase-1")
    client.force_login(user)
    return user


def test_when_required_a_superuser_without_a_device_is_sent_to_the_setup_page(
    client, superuser, settings
):
    settings.ADMIN_REQUIRE_2FA = "superusers"
    for path in ("/admin/", "/admin/subscribers/subscription/", "/admin/outbox/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == SETUP, path
    page = client.get(SETUP)
    assert page.status_code == 200
    assert "requires two-factor sign-in for your account" in page.content.decode()


def test_when_required_the_superuser_gets_in_after_setting_it_up_and_cannot_turn_it_off(
    client, superuser, settings
):
    settings.ADMIN_REQUIRE_2FA = "superusers"
    client.get(SETUP)
    client.post(SETUP, {"token": code_for(TOTPDevice.objects.get(user=superuser))})
    assert client.get("/admin/").status_code == 200
    client.post(SETUP + "off/")
    assert TOTPDevice.objects.filter(user=superuser, confirmed=True).exists()


def test_the_superuser_mode_leaves_other_staff_free(client, editor, settings):
    settings.ADMIN_REQUIRE_2FA = "superusers"
    assert client.get("/admin/").status_code == 200
