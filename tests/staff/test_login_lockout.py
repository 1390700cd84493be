"""Brute-force protection on the admin sign-in: lockout per user and address, per address."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.db.models import F
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "a-long-pass-phrase"
LOCKED = "Too many failed sign-in attempts"


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create_user("editor", password=PASSWORD, is_staff=True)


def sign_in(client, username, password, **headers):
    data = {"username": username, "password": password, "next": "/admin/"}
    return client.post(LOGIN, data, **headers)


def fail(client, times, username="editor", **headers):
    for _ in range(times):
        response = sign_in(client, username, "not-the-password", **headers)
        assert response.status_code in (200, 429)


def test_fifty_wrong_passwords_then_the_right_one_is_refused(client, editor):
    fail(client, 50)
    response = sign_in(client, "editor", PASSWORD)
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_the_lockout_says_how_long_and_sets_retry_after(client, editor):
    fail(client, 5)
    response = sign_in(client, "editor", PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    assert "15 minutes" in response.content.decode()


def test_four_wrong_passwords_still_let_the_right_one_in(client, editor):
    fail(client, 4)
    response = sign_in(client, "editor", PASSWORD)
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_one_address_trying_many_usernames_is_locked_out(client, editor):
    for name in ("alice", "bob", "carol", "dave", "erin"):
        fail(client, 1, username=name)
    assert sign_in(client, "editor", PASSWORD).status_code == 429
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    assert sign_in(elsewhere, "editor", PASSWORD).status_code == 302


def test_a_forged_x_forwarded_for_does_not_reset_the_count(client, editor, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(5):
        fail(client, 1, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    response = sign_in(client, "editor", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_client_address_the_proxy_saw_counts(client, editor, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    fail(client, 5, HTTP_X_FORWARDED_FOR="203.0.113.5")
    # The attacker writes a fresh address in front; the proxy still appends the real one.
    forged = sign_in(client, "editor", PASSWORD, HTTP_X_FORWARDED_FOR="10.9.8.7, 203.0.113.5")
    assert forged.status_code == 429
    other_reader = sign_in(client, "editor", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.6")
    assert other_reader.status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, editor):
    fail(client, 5)
    assert sign_in(client, "editor", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=16))
    assert sign_in(client, "editor", PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "command", [("axes_reset",), ("axes_reset_ip", "127.0.0.1"), ("axes_reset_username", "editor")]
)
def test_the_unlock_commands_lift_the_lockout(client, editor, command):
    fail(client, 5)
    assert sign_in(client, "editor", PASSWORD).status_code == 429
    call_command(*command)
    assert sign_in(client, "editor", PASSWORD).status_code == 302


def test_the_lockout_does_not_tell_whether_the_username_exists(editor):
    known, unknown = Client(REMOTE_ADDR="198.51.100.1"), Client(REMOTE_ADDR="198.51.100.2")
    fail(known, 5, username="editor", REMOTE_ADDR="198.51.100.1")
    fail(unknown, 5, username="nobody", REMOTE_ADDR="198.51.100.2")
    first = sign_in(known, "editor", PASSWORD, REMOTE_ADDR="198.51.100.1")
    second = sign_in(unknown, "nobody", PASSWORD, REMOTE_ADDR="198.51.100.2")
    assert first.status_code == second.status_code == 429
    assert first.content.decode().replace("nobody", "editor") == second.content.decode().replace(
        "nobody", "editor"
    )
    assert "editor" not in first.content.decode()


def test_the_lockout_page_speaks_german_to_a_german_browser(client, editor):
    fail(client, 5)
    response = sign_in(client, "editor", PASSWORD, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 429
    assert "Zu viele fehlgeschlagene Anmeldeversuche" in response.content.decode()
    assert "15 Minuten" in response.content.decode()
