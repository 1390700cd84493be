"""Who may post provider webhooks: only the configured provider, only with its secret."""

import os
import subprocess
import sys

import pytest

from tests.conftest import BASE_DIR
from tests.newsletter.tracking.webhook_helpers import (
    SECRET,
    payload,
    post,
    snapshot,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("auth", ["hook:wrong", "hook:", "other:s3cret", "hook:s3cret "])
def test_a_wrong_password_is_refused(client, delivery, auth):
    before = snapshot()
    response = post(client, payload("postmark-bounce.json", delivery), auth=auth)
    assert response.status_code in (401, 403)
    assert snapshot() == before


def test_a_post_without_credentials_is_refused(client, delivery):
    before = snapshot()
    response = post(client, payload("postmark-bounce.json", delivery), auth=None)
    assert response.status_code in (401, 403)
    assert snapshot() == before


@pytest.mark.parametrize("secret", ["", None, "no-colon", "hook:"])
def test_with_no_secret_configured_every_post_is_refused(client, delivery, settings, secret):
    anymail = {k: v for k, v in settings.ANYMAIL.items() if k != "WEBHOOK_SECRET"}
    settings.ANYMAIL = anymail if secret is None else {**anymail, "WEBHOOK_SECRET": secret}
    before = snapshot()
    for auth in (None, "hook:anything", SECRET):
        response = post(client, payload("postmark-bounce.json", delivery), auth=auth)
        assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize(
    "esp", ["sendgrid", "mailjet", "brevo", "sendinblue", "sparkpost", "resend", "mailgun"]
)
def test_another_providers_url_is_not_mounted(client, delivery, esp):
    before = snapshot()
    response = post(
        client, payload("postmark-bounce.json", delivery), url=f"/webhooks/anymail/{esp}/tracking/"
    )
    assert response.status_code == 404
    assert snapshot() == before


def test_an_inbound_url_is_not_mounted(client, delivery):
    response = post(client, {}, url="/webhooks/anymail/postmark/inbound/")
    assert response.status_code == 404


@pytest.mark.parametrize("backend", ["outbox.backend.OutboxEmailBackend", "smtp"])
def test_without_a_provider_no_webhook_is_mounted(client, delivery, settings, backend):
    settings.EMAIL_PROVIDER = ""
    settings.EMAIL_BACKEND = (
        "django.core.mail.backends.smtp.EmailBackend" if backend == "smtp" else backend
    )
    before = snapshot()
    response = post(client, payload("postmark-bounce.json", delivery))
    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_methods_are_refused_without_a_server_error(client, delivery, method):
    before = snapshot()
    response = getattr(client, method)(
        "/webhooks/anymail/postmark/tracking/", HTTP_AUTHORIZATION="Basic aG9vazpzM2NyZXQ="
    )
    assert response.status_code == 405
    assert snapshot() == before


def start_django(**env):
    """Load the production settings in a fresh process; returns (exit code, stderr)."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ANYMAIL_", "EMAIL_", "DEBUG", "RUNDBRIEF_ENV", "DJANGO_"))
    }
    environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        SECRET_KEY="a-production-key-9fK2qLm8vX4tR7wZ1bN6cJ3hY5sD0gP" + "Qe8uV",
        RUNDBRIEF_ENV="production",
        **env,
    )
    code = "import django; django.setup(); print('started')"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, result.stdout + result.stderr


def test_production_refuses_to_start_with_a_provider_and_no_webhook_secret():
    returncode, output = start_django(EMAIL_PROVIDER="postmark", ANYMAIL_POSTMARK_SERVER_TOKEN="x")
    assert returncode != 0
    assert "ImproperlyConfigured" in output and "ANYMAIL_WEBHOOK_SECRET" in output


@pytest.mark.parametrize("secret", ["just-a-password", "hook:", ":s3cret"])
def test_production_refuses_a_secret_that_is_not_user_and_password(secret):
    returncode, output = start_django(EMAIL_PROVIDER="postmark", ANYMAIL_WEBHOOK_SECRET=secret)
    assert returncode != 0 and "ANYMAIL_WEBHOOK_SECRET" in output


def test_production_refuses_mailgun_without_its_signing_key():
    returncode, output = start_django(EMAIL_PROVIDER="mailgun", ANYMAIL_WEBHOOK_SECRET=SECRET)
    assert returncode != 0 and "ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY" in output


def test_production_starts_with_a_provider_and_its_webhook_secret(tmp_path):
    secret_file = tmp_path / "webhook-secret"
    secret_file.write_text(SECRET + "\n")
    for env in (
        {"ANYMAIL_WEBHOOK_SECRET": SECRET},
        {"ANYMAIL_WEBHOOK_SECRET_FILE": str(secret_file)},
    ):
        returncode, output = start_django(EMAIL_PROVIDER="postmark", **env)
        assert (returncode, output.strip().splitlines()[-1]) == (0, "started"), output


def test_production_starts_without_a_provider_and_without_a_secret():
    returncode, output = start_django()
    assert returncode == 0, output


def test_a_provider_missing_its_signing_key_answers_403_not_500(client, delivery, settings):
    settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}  # no MAILGUN_WEBHOOK_SIGNING_KEY
    before = snapshot()
    response = post(client, {"event-data": {}}, url="/webhooks/anymail/mailgun/tracking/")
    assert response.status_code == 403
    assert snapshot() == before


def test_a_mailgun_post_with_a_wrong_signature_is_refused(client, delivery, settings):
    settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": "key-1"}
    body = {
        "signature": {"timestamp": "1764000000", "token": "t" * 50, "signature": "0" * 64},
        "event-data": {"event": "failed", "severity": "permanent", "recipient": "a@b.c"},
    }
    response = post(client, body, url="/webhooks/anymail/mailgun/tracking/")
    assert response.status_code == 403
