"""The bytes an SMTP server receives for a newsletter mail: headers, encodings, DKIM."""

import base64
import re
import smtplib
from email import message_from_bytes, policy
from email.header import decode_header, make_header

import dkim
import pytest
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from newsletter import sending
from newsletter.models import Delivery
from newsletter.sending import emails
from newsletter.sending.smtp.connection import mail_options
from newsletter.sending.smtp.dkim import private_key
from tests.conftest import RecordingHandler, free_port, send_over_smtp_to
from tests.factories import make_draft, make_newsletter, subscribe
from tests.newsletter.sending.send_helpers import drain

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue(settings):
    settings.MAIL_DOMAIN = "mail.example.org"
    settings.SITE_URL = "https://news.example.org"
    settings.FEEDBACK_ID_SENDER = "rundbrief1"
    settings.LIST_UNSUBSCRIBE_MAILTO = "unsubscribe@example.org"  # no longer read
    newsletter = make_newsletter(name="The Weekly")
    subscribe(newsletter, "anna@example.com", name="Anna Müller", custom_fields={"city": "Köln"})
    return make_draft(newsletter)


def send_one(issue, smtp_server):
    sending.start_send(issue=issue)
    drain(issue)
    return smtp_server.wait_for_mail("anna@example.com")[0]


def unfolded_header(raw, name):
    head = raw.split(b"\r\n\r\n", 1)[0] + b"\r\n"
    match = re.search(rb"^" + name + rb": (.*?)\r\n(?! )", head, re.M | re.S | re.I)
    assert match, f"{name!r} missing"
    return re.sub(rb"\r\n ", b" ", match.group(1)).decode()


def test_it_sends_the_bulk_headers_as_raw_bytes(issue, smtp_server):
    raw = send_one(issue, smtp_server).raw
    subscription = issue.newsletter.subscriptions.get()
    # No mailto: nothing would read that mailbox, and it could not tell readers apart.
    assert unfolded_header(raw, b"List-Unsubscribe") == (
        f"<https://news.example.org/u/{subscription.token}/>"
    )
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
    assert unfolded_header(raw, b"List-Id") == '"The Weekly" <weekly.mail.example.org>'
    assert unfolded_header(raw, b"Reply-To") == "editor@example.org"
    assert unfolded_header(raw, b"Feedback-ID").endswith(":newsletter:rundbrief1")
    assert re.fullmatch(r"\w{3}, .* [+-]\d{4}", unfolded_header(raw, b"Date"))
    assert "-0000" not in unfolded_header(raw, b"Date")
    assert b"=?" not in raw.split(b"\r\n\r\n")[0].split(b"List-Unsubscribe:")[1][:200]


def test_the_message_id_is_deterministic_per_issue_and_reader(issue, smtp_server):
    raw = send_one(issue, smtp_server).raw
    delivery = Delivery.objects.get()
    expected = emails.message_id_for(issue.pk, delivery.subscriber_id)
    assert unfolded_header(raw, b"Message-ID") == expected
    assert expected.endswith("@mail.example.org>")
    assert emails.message_id_for(issue.pk, delivery.subscriber_id + 1) != expected
    assert delivery.provider_message_id == expected
    assert delivery.status == Delivery.Status.SENT and delivery.provider == "smtp"


def test_it_is_personalised_utf8_multipart_with_short_lines(issue, smtp_server):
    mail = send_one(issue, smtp_server)
    message = mail.message
    assert message["Subject"] == "Hello Anna Müller"
    assert message.get_content_type() == "multipart/alternative"
    text, html = message.get_payload()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert text.get_content_charset() == html.get_content_charset() == "utf-8"
    assert "Köln" in text.get_content() and "Köln" in html.get_content()
    subscription = issue.newsletter.subscriptions.get()
    assert f"/u/{subscription.token}/" in text.get_content()
    assert f"/u/{subscription.token}/" in html.get_content()
    for line in mail.raw.split(b"\r\n"):
        assert len(line) <= 998
    for part in (text, html):
        if part["Content-Transfer-Encoding"] == "quoted-printable":
            assert max(len(line) for line in part.as_bytes().split(b"\n")[3:]) <= 76


def test_it_signs_with_dkim_covering_the_unsubscribe_headers(issue, smtp_server, settings):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings.DKIM_PRIVATE_KEY = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    settings.DKIM_SELECTOR = "rb1"
    settings.DKIM_DOMAIN = "example.org"
    private_key.cache_clear()
    raw = send_one(issue, smtp_server).raw
    private_key.cache_clear()
    signature = unfolded_header(raw, b"DKIM-Signature")
    signed = re.search(r"h=([^;]+)", signature).group(1).replace(" ", "").lower().split(":")
    assert {"from", "list-unsubscribe", "list-unsubscribe-post"} <= set(signed)
    assert "d=example.org" in signature
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    txt = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    assert dkim.verify(raw, dnsfunc=lambda name, timeout=5: txt)
    assert not dkim.verify(
        raw.replace(b"One-Click", b"One-Clack"), dnsfunc=lambda n, timeout=5: txt
    )


def smtp_server_with(smtputf8):
    handler = RecordingHandler()
    controller = Controller(
        handler, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=smtputf8
    )
    controller.start()
    return controller, handler


@pytest.mark.parametrize("smtputf8", [True, False])
def test_an_internationalised_address_needs_smtputf8(settings, smtputf8):
    newsletter = make_newsletter()
    subscribe(newsletter, "zoë@exämple.org", name="Zoë")
    issue = make_draft(newsletter)
    controller, handler = smtp_server_with(smtputf8)
    send_over_smtp_to(settings, controller.port)
    try:
        sending.start_send(issue=issue)
        drain(issue)
    finally:
        controller.stop()
    delivery = Delivery.objects.get()
    if smtputf8:
        assert delivery.status == Delivery.Status.SENT
        (mail,) = handler.received
        assert mail.rcpt_tos == ["zoë@xn--exmple-cua.org"]
        assert "To: Zoë <zoë@xn--exmple-cua.org>".encode() in mail.raw
        assert message_from_bytes(mail.raw, policy=policy.SMTPUTF8)["Subject"] == "Hello Zoë"
    else:
        assert delivery.status == Delivery.Status.FAILED
        assert "SMTPUTF8" in delivery.error
        assert handler.received == []


def test_a_non_ascii_list_name_encodes_only_the_phrase(smtp_server, settings):
    settings.MAIL_DOMAIN = "mail.example.org"
    newsletter = make_newsletter(slug="garten", name="Gärtnerbrief")
    subscribe(newsletter, "anna@example.com", name="Anna")
    issue = make_draft(newsletter)
    raw = send_one(issue, smtp_server).raw
    list_id = unfolded_header(raw, b"List-Id")
    phrase, label = list_id.rsplit(" ", 1)
    assert label == "<garten.mail.example.org>"  # plain ASCII, readable by filters
    assert phrase.startswith("=?utf-8?") and phrase.endswith("?=")
    assert str(make_header(decode_header(phrase))) == "Gärtnerbrief"
    assert message_from_bytes(raw, policy=policy.default)["List-Id"] == (
        "Gärtnerbrief <garten.mail.example.org>"
    )


def send_test_mail(issue, smtp_server, address="author@example.org"):
    assert sending.send_test(issue=issue, addresses=[address]) == {}
    return smtp_server.wait_for_mail(address)[0].raw


def test_a_test_send_has_its_message_id_on_the_mail_domain(issue, smtp_server):
    raw = send_test_mail(issue, smtp_server)
    message_id = unfolded_header(raw, b"Message-ID")
    assert re.fullmatch(r"<[^@<>]+@mail\.example\.org>", message_id)
    again = send_test_mail(issue, smtp_server, "editor@example.org")
    assert message_id != unfolded_header(again, b"Message-ID")


def test_a_test_send_offers_no_one_click_unsubscribe(issue, smtp_server, client):
    # The author is no reader of the list: there is nothing to unsubscribe from, and the
    # archive page a link would point to refuses a one-click POST.
    raw = send_test_mail(issue, smtp_server)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"^List-Unsubscribe", head, re.M | re.I)
    assert b"\r\nList-Id: " in head and b"\r\nPrecedence: bulk" in head
    archive = emails.web_url_for(issue).removeprefix("https://news.example.org")
    before = issue.newsletter.subscriptions.get().status
    response = client.post(archive, {"List-Unsubscribe": "One-Click"})
    assert response.status_code >= 400  # why the header must not point there
    assert issue.newsletter.subscriptions.get().status == before


@pytest.mark.parametrize("pipelining", [True, False])
def test_an_8bit_body_is_announced_as_8bitmime(issue, smtp_server, pipelining):
    smtp_server.handler.pipelining = pipelining
    mail = send_one(issue, smtp_server)
    assert b"Content-Transfer-Encoding: 8bit" in mail.raw
    assert "BODY=8BITMIME" in mail.mail_options


def test_an_8bit_body_is_not_announced_to_a_server_without_8bitmime(issue, smtp_server):
    smtp_server.handler.eightbitmime = False
    mail = send_one(issue, smtp_server)
    assert mail.mail_options == []


def test_an_ascii_body_needs_no_parameter(smtp_server):
    connection = smtplib.SMTP("127.0.0.1", smtp_server.port)
    try:
        connection.ehlo()
        assert mail_options(connection, b"Subject: plain\r\n\r\nHi\r\n", False) == []
        assert mail_options(connection, "Subject: ä\r\n".encode(), False) == ["BODY=8BITMIME"]
    finally:
        connection.quit()
