import pytest

from config import mail
from newsletter.sending.transport import is_anymail, name_of, transport_name


@pytest.mark.parametrize(
    ("backend", "name"),
    [
        ("django.core.mail.backends.smtp.EmailBackend", "smtp"),
        (mail.SMTP_BACKEND, "smtp"),
        (mail.OUTBOX_BACKEND, "outbox"),
        ("anymail.backends.postmark.EmailBackend", "postmark"),
        ("anymail.backends.amazon_ses.EmailBackend", "amazon_ses"),
        ("django.core.mail.backends.locmem.EmailBackend", "locmem"),
    ],
)
def test_each_backend_has_the_transport_name_the_ledger_records(backend, name):
    assert name_of(backend) == name


def test_the_dev_outbox_is_the_outbox_transport_and_not_anymail(settings):
    settings.EMAIL_BACKEND = mail.email_backend("", "")
    assert transport_name() == "outbox"
    assert not is_anymail()
