"""Every mail that leaves over SMTP is DKIM-signed by one signer: issue mails (fast and
slow path), test sends, confirmation and welcome mails, checked as received by a real
SMTP server and verified with dkimpy."""

import base64
import re

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from newsletter import sending
from newsletter.sending.smtp.dkim import private_key
from subscribers.models import Subscription
from subscribers.tasks import send_confirmation_task, send_welcome_task
from tests.factories import make_draft, subscribe
from tests.newsletter.sending.send_helpers import drain

pytestmark = pytest.mark.django_db
SIGNED = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "feedback-id",
}


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def dns_txt(key, settings):
    """DKIM switched on with a fresh key; the DNS TXT record dkimpy looks up, offline."""
    settings.DKIM_PRIVATE_KEY = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    settings.DKIM_SELECTOR = "rb1"
    settings.DKIM_DOMAIN = "example.org"
    settings.MAIL_DOMAIN = "mail.example.org"
    settings.FEEDBACK_ID_SENDER = "rundbrief1"
    private_key.cache_clear()
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    yield b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    private_key.cache_clear()


def signed_names(raw):
    head = raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ")
    signature = re.search(rb"^DKIM-Signature: (.*)$", head, re.M).group(1).decode()
    assert "d=example.org" in signature
    names = re.search(r"\bh=([^;]+)", signature).group(1)
    return [name.strip().lower() for name in names.split(":")]


def assert_signed(raw, txt, *, unsubscribe_headers=True):
    """Verifies; h= covers the headers the mail has and over-signs From and the
    unsubscribe headers; a second From prepended breaks the signature."""
    dnsfunc = lambda name, timeout=5: txt  # noqa: E731
    assert dkim.verify(raw, dnsfunc=dnsfunc)
    names = signed_names(raw)
    present = {
        name
        for name in SIGNED
        if re.search(rb"^" + name.encode() + rb":", raw.split(b"\r\n\r\n")[0], re.M | re.I)
    }
    assert present <= set(names)
    assert names.count("from") == 2
    if unsubscribe_headers:
        assert names.count("list-unsubscribe") == 2
        assert names.count("list-unsubscribe-post") == 2
    forged = b"From: Bank <security@bank.example>\r\n" + raw
    assert not dkim.verify(forged, dnsfunc=dnsfunc)
    forged_post = b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" + raw
    assert not dkim.verify(forged_post, dnsfunc=dnsfunc)


@pytest.fixture(autouse=True)
def welcome_mail(newsletter):
    """The newsletter sends a welcome mail, so that path is signed here too."""
    newsletter.welcome_enabled = True
    newsletter.welcome_subject, newsletter.welcome_body = "Willkommen", "Hi"
    newsletter.save()


def test_issue_mails_are_signed_on_the_fast_path(newsletter, smtp_server, dns_txt):
    subscribe(newsletter, "anna@example.com", name="Anna")
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    drain(issue)
    (mail,) = smtp_server.wait_for_mail("anna@example.com")
    assert b"\r\nFeedback-ID: " in mail.raw
    assert_signed(mail.raw, dns_txt)


def test_issue_mails_are_signed_on_the_slow_path(newsletter, smtp_server, dns_txt):
    # A line over 998 octets needs quoted-printable: the email package builds that mail.
    subscribe(newsletter, "anna@example.com", name="Anna")
    issue = make_draft(newsletter, body_markdown="x" * 1200)
    sending.start_send(issue=issue)
    drain(issue)
    (mail,) = smtp_server.wait_for_mail("anna@example.com")
    assert b"quoted-printable" in mail.raw
    assert_signed(mail.raw, dns_txt)


def test_test_sends_are_signed(newsletter, smtp_server, dns_txt):
    issue = make_draft(newsletter)
    assert sending.send_test(issue=issue, addresses=["author@example.org"]) == {}
    (mail,) = smtp_server.wait_for_mail("author@example.org")
    assert_signed(mail.raw, dns_txt, unsubscribe_headers=False)


def test_confirmation_mails_are_signed(newsletter, smtp_server, dns_txt):
    subscription = subscribe(newsletter, "neu@example.com", status="pending")
    send_confirmation_task(subscription_id=subscription.pk)
    (mail,) = smtp_server.wait_for_mail("neu@example.com")
    assert_signed(mail.raw, dns_txt, unsubscribe_headers=False)


def test_welcome_mails_are_signed_over_their_unsubscribe_headers(newsletter, smtp_server, dns_txt):
    subscription = subscribe(newsletter, "neu@example.com", status=Subscription.Status.CONFIRMED)
    send_welcome_task(subscription_id=subscription.pk)
    (mail,) = smtp_server.wait_for_mail("neu@example.com")
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in mail.raw
    assert_signed(mail.raw, dns_txt)


def test_system_mails_say_a_real_zone_and_the_mail_domain(newsletter, smtp_server, settings):
    subscription = subscribe(newsletter, "neu@example.com", status="pending")
    send_confirmation_task(subscription_id=subscription.pk)
    (mail,) = smtp_server.wait_for_mail("neu@example.com")
    head = mail.raw.split(b"\r\n\r\n")[0].decode()
    date = re.search(r"^Date: ([^\r]*)", head, re.M).group(1)
    assert re.fullmatch(r"\w{3}, .* [+-]\d{4}", date) and not date.endswith("-0000")
    message_id = re.search(r"^Message-ID: ([^\r]*)", head, re.M).group(1)
    assert message_id.endswith(f"@{settings.MAIL_DOMAIN}>")


def test_nothing_is_signed_without_a_key(newsletter, smtp_server, settings):
    settings.DKIM_PRIVATE_KEY = ""
    subscription = subscribe(newsletter, "neu@example.com", status="pending")
    send_confirmation_task(subscription_id=subscription.pk)
    (mail,) = smtp_server.wait_for_mail("neu@example.com")
    assert b"DKIM-Signature" not in mail.raw
