"""Which transport the site sends through, by the one name the rate limiter, the circuit
breaker and the ledger's `provider` column all use: smtp, postmark, mailgun, …"""

from functools import cache

from django.conf import settings

from config import mail

# Django's SMTP backend and its signing subclass (system mails): both mean SMTP.
SMTP_BACKENDS = ("django.core.mail.backends.smtp.EmailBackend", mail.SMTP_BACKEND)
ANYMAIL_PREFIX = "anymail.backends."


def transport_name():
    """The configured EMAIL_BACKEND's transport name."""
    return name_of(settings.EMAIL_BACKEND)


@cache
def name_of(backend):
    """An EMAIL_BACKEND's transport name: "smtp", anymail's ESP module, or the backend's
    own module for any other (locmem, filebased, …)."""
    if backend in SMTP_BACKENDS:
        return "smtp"
    if backend == mail.OUTBOX_BACKEND:
        return "outbox"
    if backend.startswith(ANYMAIL_PREFIX):
        return backend.split(".")[2]
    return backend.rsplit(".", 2)[-2]


def is_anymail():
    return settings.EMAIL_BACKEND.startswith(ANYMAIL_PREFIX)
