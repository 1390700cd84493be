"""The SMTP fast path: mails filled into the issue's serialised skeleton must be the very
bytes the email package makes, and the pipelined SMTP conversation must behave as
smtplib's sendmail does."""

import re
import string
from email import policy

import pytest
from django.core.mail.message import forbid_multi_line_headers
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from newsletter import sending
from newsletter.models import Delivery
from newsletter.sending import emails
from newsletter.sending.outcomes import PERMANENT, SENT, TRANSIENT
from newsletter.sending.smtp import wire
from newsletter.sending.smtp.connection import PooledSMTP
from newsletter.sending.transport import SMTP_BACKENDS
from tests.conftest import SMTPServer
from tests.factories import make_draft, make_newsletter, subscribe
from tests.newsletter.sending.send_helpers import drain, reader_for

pytestmark = pytest.mark.django_db
DATE_LINE = re.compile(rb"^Date: .*\r\n", re.MULTILINE)
EXAMPLES = hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def issue(settings):
    settings.MAIL_DOMAIN = "mail.example.org"
    return make_draft(make_newsletter(name="Die Woche – Grüße"))


def reader(email="anna@example.com", name="Anna", city="Köln", subscriber_id=7):
    return emails.reader_from_row(
        delivery_id=1,
        subscriber_id=subscriber_id,
        email=email,
        name=name,
        custom_fields={"city": city},
        subscriber_token="re" + "0" * 22,
        subscription_token="su" + "1" * 22,
    )


def email_package_bytes(issue, reader, boundary):
    """What wire.message_bytes makes, with the skeleton's boundary instead of a new one."""
    mime = emails.build_message(issue, reader).message()
    mime.set_boundary(boundary.decode())
    return mime.as_bytes(linesep="\r\n")


def assert_same_mail(issue, reader):
    mail = wire.wire_mail(issue, reader)
    assert mail is not None
    expected = email_package_bytes(issue, reader, wire.skeleton_for(issue, reader).boundary)
    # The Date is the one value taken afresh per mail: a second may pass between the two.
    assert DATE_LINE.sub(b"", mail.raw) == DATE_LINE.sub(b"", expected)
    assert DATE_LINE.search(mail.raw)
    return mail


names = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=90
)
cities = st.text(st.characters(blacklist_categories=("Cs",)), max_size=90) | st.just("x" * 1200)
local_parts = st.text(string.ascii_lowercase + string.digits + ".+_-", min_size=1, max_size=40)


@EXAMPLES
@given(name=names, city=cities, local=local_parts)
def test_a_filled_skeleton_is_byte_for_byte_the_email_packages_mail(issue, name, city, local):
    assume(not local.startswith(".") and not local.endswith(".") and ".." not in local)
    one = reader(email=f"{local}@example.com", name=name, city=city)
    try:
        expected = email_package_bytes(issue, one, b"b")
    except Exception as refused:  # whatever the email package refuses…
        with pytest.raises(type(refused)):  # …the skeleton refuses too
            wire.wire_mail(issue, one)
        return
    if wire.wire_mail(issue, one) is None:
        # The slow way only for a value that breaks lines or a line too long for 8bit.
        assert "\r" in city or "\n" in city or b"quoted-printable" in expected
        return
    assert_same_mail(issue, one)


def test_typical_german_and_english_readers_take_the_fast_path(issue):
    for name in ["Anna", "Jürgen Müller", 'Smith, "JJ" <x>', "Ζωή", "A" * 120, ""]:
        mail = assert_same_mail(issue, reader(name=name, city=name))
        assert mail.recipient == "anna@example.com"
        assert mail.sender == "news@example.org"
        assert mail.message_id == emails.message_id_for(issue.pk, 7)


header_values = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80)


@EXAMPLES
@given(name=st.sampled_from(wire.READER_HEADERS), value=header_values)
def test_the_one_line_shortcut_writes_what_the_email_package_writes(name, value):
    _, stored = forbid_multi_line_headers(name, value, "utf-8")
    expected = policy.compat32.clone(linesep="\r\n").fold_binary(name, stored)
    wire.header_bytes.cache_clear()
    assert wire.header_bytes(name, value) == expected


def test_a_line_too_long_for_8bit_goes_the_slow_way_and_still_arrives(issue, smtp_server):
    long_city = "Köln " * 250  # one line of 1,500 octets: quoted-printable
    assert wire.wire_mail(issue, reader(city=long_city)) is None
    subscribe(issue.newsletter, "anna@example.com", name="Anna", custom_fields={"city": long_city})
    sending.start_send(issue=issue)
    drain(issue)
    mail = smtp_server.wait_for_mail("anna@example.com")[0]
    assert b"Content-Transfer-Encoding: quoted-printable" in mail.raw
    assert long_city.strip() in mail.message.get_body(("plain",)).get_content()


def test_addresses_that_need_smtputf8_and_test_sends_go_the_slow_way(issue):
    assert wire.wire_mail(issue, reader(email="zoë@example.com")) is None
    assert wire.wire_mail(issue, reader(subscriber_id=None)) is None


def test_markers_written_by_an_author_are_only_text(issue, smtp_server):
    # In a body they are just text (bodies are slots of their own)…
    issue.body_markdown = "Our template says RBSLOTHTo. and RBSLOTB0. literally."
    issue.save()
    assert_same_mail(issue, reader())
    # …in a header the skeleton shares between readers, they would be taken for slots.
    issue.newsletter.name = "RBSLOTHTo. Weekly"
    issue.newsletter.save()
    assert wire.wire_mail(issue, reader()) is None
    subscribe(issue.newsletter, "anna@example.com", name="Anna")
    sending.start_send(issue=issue)
    drain(issue)
    mail = smtp_server.wait_for_mail("anna@example.com")[0].message
    assert "RBSLOTHTo. and RBSLOTB0. literally" in mail.get_body(("plain",)).get_content()
    assert mail["List-Id"].startswith('"RBSLOTHTo. Weekly"')


def test_an_edited_issue_gets_a_new_skeleton(issue):
    before = assert_same_mail(issue, reader())
    issue.subject = "A new subject for {{ name }}"
    issue.save()
    after = assert_same_mail(issue, reader())
    assert b"Subject: A new subject for Anna\r\n" in after.raw
    assert b"A new subject" not in before.raw
    issue.newsletter.from_name = "Ada from the Weekly"
    issue.newsletter.save()
    edited = assert_same_mail(issue, reader()).raw
    assert b"From: Ada from the Weekly <news@example.org>\r\n" in edited


# --- the pipelined SMTP conversation ---------------------------------------------------
@pytest.fixture
def server(settings):
    server = SMTPServer()
    server.controller.start()
    settings.EMAIL_BACKEND = SMTP_BACKENDS[1]
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    yield server
    server.controller.stop()


def wire_mails(issue, addresses):
    return [wire.wire_mail(issue, reader(email=address)) for address in addresses]


@pytest.mark.parametrize("pipelining", [True, False])
def test_refusals_fail_one_mail_and_the_connection_goes_on(issue, server, pipelining):
    server.handler.pipelining = pipelining
    server.handler.reply["gone@example.com"] = "550 5.1.1 no such user"
    smtp = PooledSMTP()
    first, refused, last = wire_mails(issue, ["a@example.com", "gone@example.com", "b@example.com"])
    outcomes = [smtp.send_wire(mail) for mail in (first, refused, last)]
    assert [o.status for o in outcomes] == [SENT, PERMANENT, SENT]
    assert "550 5.1.1 no such user" in outcomes[1].error
    assert outcomes[0].provider_message_id == first.message_id
    assert [mail.rcpt_tos for mail in server.received] == [["a@example.com"], ["b@example.com"]]
    assert server.received[1].raw == last.raw
    assert server.received[1].mail_from == "news@example.org"
    smtp.close()


def test_a_refused_sender_is_transient_for_the_circuit_breaker(issue, server):
    async def refuse_sender(server_, session, envelope, address, options):
        return "451 4.3.0 sender rejected for now"

    server.handler.handle_MAIL = refuse_sender
    smtp = PooledSMTP()
    outcome = smtp.send_wire(wire_mails(issue, ["a@example.com"])[0])
    assert outcome.status == TRANSIENT
    assert "451" in outcome.error
    assert server.received == []
    smtp.close()


def test_lines_starting_with_a_dot_survive_the_pipelined_data(issue, server):
    issue.body_markdown = "Text\n\n.hidden line with a dot\n\n..two dots"
    issue.save()
    smtp = PooledSMTP()
    mail = wire_mails(issue, ["a@example.com"])[0]
    assert b"\r\n.hidden" in mail.raw
    assert smtp.send_wire(mail).status == SENT
    assert server.received[0].raw == mail.raw
    smtp.close()


def test_the_engine_sends_through_the_fast_path_and_records_the_message_id(issue, smtp_server):
    subscribe(issue.newsletter, "anna@example.com", name="Anna", custom_fields={"city": "Köln"})
    sending.start_send(issue=issue)
    drain(issue)
    received = smtp_server.wait_for_mail("anna@example.com")[0]
    delivery = Delivery.objects.get()
    expected = wire.wire_mail(issue, reader_for(delivery, delivery.subscriber.subscriptions.get()))
    assert DATE_LINE.sub(b"", received.raw) == DATE_LINE.sub(b"", expected.raw)
    assert delivery.status == Delivery.Status.SENT
    assert delivery.provider_message_id == expected.message_id


# --- bodies filled from their template --------------------------------------------------
# Runs long enough that lines over 998 octets form, often across a join.
line_pieces = st.lists(st.sampled_from(["\n", "a" * 300, "ü" * 200, "b" * 7]), max_size=6).map(
    "".join
)


@EXAMPLES
@given(statics=st.lists(line_pieces, min_size=1, max_size=5), values=st.lists(line_pieces))
def test_a_body_filled_from_its_template_is_body_bytes_of_the_joined_text(statics, values):
    # Text written once alternating with reader values (context "text": inserted as is).
    values = (values + [""] * len(statics))[: len(statics) - 1]
    parts = []
    for index, static in enumerate(statics[:-1]):
        parts += [static, (index, "text")]
    parts.append(statics[-1])
    joined = "".join(piece if isinstance(piece, str) else values[piece[0]] for piece in parts)
    template = wire.body_template(tuple(parts))
    try:
        filled = wire.fill_body(template, [None] * len(values), values)
    except wire.NeedsSlowPath:
        # Only for a value with a line break, or a line that may be over 998 octets.
        longest = max(len(line.encode()) for line in joined.replace("\r\n", "\n").split("\n"))
        assert any("\n" in value for value in values) or longest > 998
        return
    assert filled == wire.body_bytes(joined)


def test_a_template_with_a_bare_carriage_return_is_left_to_the_email_package():
    assert wire.body_template(("one\rtwo", (0, "text"))) is None
    assert wire.body_template(("one\ntwo", (0, "text"))) is not None
