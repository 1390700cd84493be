"""How the mail settings are read: which backend sends, the SMTP server from EMAIL_URL,
and the webhook secrets a provider needs before it may bounce or unsubscribe readers."""

from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

SMTP_BACKEND = "newsletter.sending.smtp.mail_backend.SMTPEmailBackend"  # DKIM, Date, Message-ID
OUTBOX_BACKEND = "outbox.backend.OutboxEmailBackend"
# Where anymail cannot check a provider's posts without a signing key.
WEBHOOK_SIGNING_KEYS = {
    "mailersend": "MAILERSEND_WEBHOOK_SIGNING_SECRET",
    "mailgun": "MAILGUN_WEBHOOK_SIGNING_KEY",
    "mandrill": "MANDRILL_WEBHOOK_KEY",
    "postal": "POSTAL_WEBHOOK_KEY",
}


def email_backend(provider, email_url):
    """A provider's anymail backend; else SMTP when EMAIL_URL is set; else the dev outbox."""
    if provider and provider != "smtp":
        return f"anymail.backends.{provider}.EmailBackend"
    return SMTP_BACKEND if email_url else OUTBOX_BACKEND


def parse_email_url(url):
    """smtp://user:pass@host:port, smtp+tls:// (STARTTLS) or smtps:// (implicit TLS).

    Written here because django-environ maps smtps:// to STARTTLS, which hangs against
    a port-465 server.
    """
    parts = urlsplit(url)
    schemes = {"smtp": (False, False), "smtp+tls": (True, False), "smtps": (False, True)}
    if parts.scheme not in schemes:
        raise ImproperlyConfigured(f"EMAIL_URL scheme must be one of {', '.join(schemes)}")
    if not parts.hostname:
        raise ImproperlyConfigured("EMAIL_URL needs a host, e.g. smtp://mail.example.org:25")
    use_tls, use_ssl = schemes[parts.scheme]
    return {
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": parts.port or (465 if use_ssl else 587 if use_tls else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_USE_SSL": use_ssl,
    }


def check_webhook_secrets(provider, anymail):
    """Provider webhooks can bounce, suppress and unsubscribe readers: in production they
    need their basic-auth secret, and the signing key where anymail has a check for one."""
    user, _colon, password = anymail.get("WEBHOOK_SECRET", "").partition(":")
    if not (user and password):
        raise ImproperlyConfigured(
            f"EMAIL_PROVIDER={provider} needs ANYMAIL_WEBHOOK_SECRET=user:password "
            "(random, also entered in the provider's webhook URL); see README, Webhooks."
        )
    key = WEBHOOK_SIGNING_KEYS.get(provider)
    if key and not anymail.get(key):
        raise ImproperlyConfigured(f"EMAIL_PROVIDER={provider} needs ANYMAIL_{key}.")
