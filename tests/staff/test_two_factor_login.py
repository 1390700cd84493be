"""Two-factor admin sign-in: a user with a confirmed device needs a valid code."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.two_factor import replace_backup_codes

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "a-long-pass-phrase"


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create_user("editor", password=PASSWORD, is_staff=True)


@pytest.fixture
def device(editor):
    return TOTPDevice.objects.create(user=editor, name="Phone", confirmed=True)


def code_for(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def wrong_code_for(device):
    return f"{(int(code_for(device)) + 1) % 1_000_000:06d}"


def sign_in(client, token=None, password=PASSWORD):
    data = {"username": "editor", "password": password, "next": "/admin/"}
    if token is not None:
        data["otp_token"] = token
    return client.post(LOGIN, data)


def test_a_user_with_a_device_cannot_sign_in_with_the_password_alone(client, device):
    response = sign_in(client)
    assert response.status_code == 200
    assert "two-factor code" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_a_wrong_code_is_refused(client, device):
    response = sign_in(client, token=wrong_code_for(device))
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_the_right_code_lets_them_in(client, device):
    response = sign_in(client, token=code_for(device))
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_backup_code_lets_them_in_once(client, device, editor):
    code = replace_backup_codes(editor)[0]
    assert sign_in(client, token=code).status_code == 302
    client.logout()
    assert sign_in(client, token=code).status_code == 200
    assert StaticDevice.objects.get(user=editor).token_set.count() == 9


def test_a_user_without_a_device_signs_in_with_the_password(client, editor):
    assert sign_in(client).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_password_only_session_of_a_user_with_a_device_is_kept_out_of_the_whole_admin(
    client, device, editor
):
    client.force_login(editor)
    for path in ("/admin/", "/admin/subscribers/subscription/", "/admin/outbox/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/admin/login/"), path
    # The sign-in page asks again instead of sending them back to the index in a loop.
    assert client.get("/admin/login/").status_code == 200


def test_wrong_codes_count_towards_the_lockout(client, device):
    for _ in range(5):
        sign_in(client, token="000000" if code_for(device) != "000000" else "111111")
    assert sign_in(client, token=code_for(device)).status_code == 429


def test_a_wrong_code_and_a_wrong_password_read_the_same(client, device):
    wrong_code = sign_in(client, token=wrong_code_for(device))
    wrong_password = sign_in(client, password="not-it", token=code_for(device))
    assert wrong_code.context["form"].non_field_errors() == (
        wrong_password.context["form"].non_field_errors()
    )
