"""Batch calls through the providers' own merge fields: anymail's SendGrid, Mailgun,
Mailjet and Brevo backends against fake provider APIs on loopback (tests/fakes/esp.py)."""

from email.header import decode_header, make_header

import pytest
from django.utils import timezone

from newsletter import sending
from newsletter.models import Delivery, Issue
from newsletter.sending import delivery_reference, emails, providers
from newsletter.sending.breaker import CircuitBreaker
from subscribers.models import Subscription
from tests.factories import make_draft, make_newsletter, make_readers, subscribe
from tests.fakes.amazon_ses import FakeAmazonSES
from tests.fakes.esp import FAKES
from tests.newsletter.sending.send_helpers import drain, forget_send_state, reader_for, statuses

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:django-anymail has dropped official support"),
]


@pytest.fixture(params=sorted(FAKES))
def esp(request, settings):
    """A fake provider API, with anymail's backend for it pointed there."""
    fake = FAKES[request.param]().start()
    settings.EMAIL_BACKEND = f"anymail.backends.{fake.name}.EmailBackend"
    settings.ANYMAIL = fake.anymail_settings()
    settings.SEND_RETRY_BASE_SECONDS = 0.01
    settings.SITE_URL = "https://news.example.org"
    providers._django_mail.clear()
    forget_send_state()
    yield fake
    forget_send_state()
    fake.stop()


def expected_mail(issue, address):
    """What the engine would send this reader in a mail of their own."""
    delivery = Delivery.objects.select_related("subscriber").get(
        issue=issue, subscriber__email=address
    )
    subscription = Subscription.objects.get(
        newsletter=issue.newsletter, subscriber=delivery.subscriber
    )
    reader = reader_for(delivery, subscription)
    return delivery, subscription, emails.personalised_parts(issue, reader)


def send_all(issue):
    sending.start_send(issue=issue)
    drain(Issue.objects.get(pk=issue.pk))


def test_one_call_carries_up_to_the_provider_maximum(esp):
    newsletter = make_newsletter()
    maximum = providers.PROVIDERS[esp.name].max_batch
    addresses = make_readers(newsletter, maximum + 20)
    issue = make_draft(newsletter)
    send_all(issue)
    assert esp.calls == [maximum, 20]
    assert sorted(mail["to"] for mail in esp.delivered) == sorted(addresses)
    assert set(statuses(issue).values()) == {"sent"}
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.SENT
    stored = set(Delivery.objects.values_list("provider_message_id", flat=True))
    assert stored == {mail["message_id"] for mail in esp.delivered}
    assert set(Delivery.objects.values_list("provider", flat=True)) == {esp.name}


def test_each_reader_gets_exactly_their_own_mail(esp):
    newsletter = make_newsletter()
    readers = {
        "ana@example.com": ('Ana <b>&</b> "Co"', {"city": "Köln & Umland"}),
        "ben@example.com": ("Ben", {"city": "Graz"}),
        "cy@example.com": ("", {}),
    }
    for address, (name, fields) in readers.items():
        subscribe(newsletter, address, name=name, custom_fields=fields)
    issue = make_draft(
        newsletter,
        body_markdown='Dear {{ name | default: "reader" }} from '
        '{{ custom.city | default: "somewhere" }}.\n\n'
        "[Your settings]({{ preferences_url }}) · [leave]({{ unsubscribe_url }})",
    )
    send_all(issue)
    assert len(esp.calls) == 1
    for address in readers:
        (mail,) = esp.to(address)
        delivery, subscription, (subject, html, text) = expected_mail(issue, address)
        # Byte for byte what a mail of their own would be: nothing escaped twice or not
        # at all, no field left unfilled.
        assert (mail["subject"], mail["html"], mail["text"]) == (subject, html, text)
        unsubscribe_url = f"https://news.example.org/u/{subscription.token}/"
        assert mail["headers"]["List-Unsubscribe"] == f"<{unsubscribe_url}>"
        assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert mail["headers"]["Message-ID"] == emails.message_id_for(
            issue.pk, delivery.subscriber_id
        )
        assert unsubscribe_url in mail["text"]
        assert mail["metadata"]["delivery"] == delivery_reference.sign(delivery.pk)
        for other in readers.keys() - {address}:  # no reader's data in another's mail
            other_token = Subscription.objects.get(subscriber__email=other).token
            assert other_token not in mail["html"] + mail["text"]
    (ana,) = esp.to("ana@example.com")
    assert "Dear Ana &lt;b&gt;&amp;&lt;/b&gt; &quot;Co&quot; from Köln &amp; Umland" in ana["html"]
    assert 'Dear Ana <b>&</b> "Co" from Köln & Umland' in ana["text"]
    assert ana["subject"] == 'Hello Ana <b>&</b> "Co"'
    (cy,) = esp.to("cy@example.com")
    assert "Dear reader from somewhere" in cy["text"]


def test_a_refused_address_fails_alone(esp):
    newsletter = make_newsletter()
    make_readers(newsletter, 5)
    esp.refuse.add("reader3@example.com")
    issue = make_draft(newsletter)
    send_all(issue)
    result = statuses(issue)
    assert result.pop("reader3@example.com") == "failed"
    assert set(result.values()) == {"sent"}
    assert sorted(mail["to"] for mail in esp.delivered) == sorted(result)  # each once
    error = Delivery.objects.get(subscriber__email="reader3@example.com").error
    assert error.startswith(f"{esp.name}: 400")


@pytest.mark.parametrize("status", [429, 503])
def test_rate_limits_and_outages_retry_the_batch(esp, settings, status):
    settings.SEND_RETRY_BASE_SECONDS = 60
    newsletter = make_newsletter()
    make_readers(newsletter, 6)
    esp.fail_next = [status]
    issue = make_draft(newsletter)
    send_all(issue)
    assert set(statuses(issue).values()) == {"retrying"}
    assert str(status) in Delivery.objects.first().error
    assert esp.delivered == []
    Delivery.objects.update(next_attempt_at=timezone.now())  # the backoff is over
    drain(issue)
    assert set(statuses(issue).values()) == {"sent"}
    assert len(esp.delivered) == 6
    assert esp.calls == [6]


def test_an_outage_opens_the_breaker_and_the_issue_keeps_sending(esp, settings):
    settings.SEND_BREAKER_THRESHOLD = 10
    settings.SEND_BATCH_SIZE = 5
    newsletter = make_newsletter()
    make_readers(newsletter, 30)
    esp.fail_next = [503, 503]
    issue = make_draft(newsletter)
    send_all(issue)
    breaker = CircuitBreaker(esp.name)
    assert breaker.state() == breaker.OPEN  # 2 calls x 5 readers = 10 transient errors
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.SENDING
    assert not Delivery.objects.filter(status="failed").exists()
    assert esp.calls == []


def test_text_in_the_provider_syntax_falls_back_to_one_call_per_reader(esp):
    syntax = {
        "sendgrid": "-rb0-",
        "mailgun": "%recipient.name%",
        "mailjet": "{% if x %}",
        "brevo": "{% if x %}",
    }[esp.name]
    newsletter = make_newsletter()
    make_readers(newsletter, 3)
    issue = make_draft(newsletter, body_markdown=f"Literally `{syntax}`, {{{{ name }}}}.")
    send_all(issue)
    assert esp.calls == [1, 1, 1]
    (mail,) = esp.to("reader1@example.com")
    assert syntax.replace("%", "") in mail["text"].replace("%", "")
    assert "Reader 1" in mail["text"]
    assert set(statuses(issue).values()) == {"sent"}


def test_an_internationalised_address_is_sent_on_its_own(esp):
    newsletter = make_newsletter()
    make_readers(newsletter, 3)
    subscribe(newsletter, "zoë@example.com", name="Zoë")
    issue = make_draft(newsletter)
    send_all(issue)
    assert sorted(esp.calls) == [1, 3]
    assert statuses(issue)["reader0@example.com"] == "sent"


def test_providers_without_a_per_reader_unsubscribe_header_send_one_by_one(settings):
    for name in ("sparkpost", "resend", "mailtrap", "unisender_go"):
        settings.EMAIL_BACKEND = f"anymail.backends.{name}.EmailBackend"
        assert providers.batch_size() == 1
    settings.EMAIL_BACKEND = "anymail.backends.amazon_ses.EmailBackend"
    settings.SEND_ESP_TEMPLATE = ""
    assert providers.batch_size() == 1  # SES merges only into a stored template
    settings.SEND_ESP_TEMPLATE = "rundbrief-passthrough"
    assert providers.batch_size() == 50
    settings.SEND_BATCH_SIZE = 20
    assert providers.batch_size() == 20


@pytest.fixture
def ses(settings):
    fake = FakeAmazonSES().start()
    settings.EMAIL_BACKEND = "anymail.backends.amazon_ses.EmailBackend"
    settings.ANYMAIL = fake.anymail_settings()
    settings.SEND_ESP_TEMPLATE = "rundbrief-passthrough"
    settings.SITE_URL = "https://news.example.org"
    providers._django_mail.clear()
    forget_send_state()
    yield fake
    forget_send_state()
    fake.stop()


def test_amazon_ses_sends_50_per_call_through_the_stored_template(ses):
    newsletter = make_newsletter()
    addresses = make_readers(newsletter, 120)
    ses.refuse.add("reader9@example.com")
    issue = make_draft(newsletter)
    send_all(issue)
    assert ses.calls == [50, 50, 20]
    result = statuses(issue)
    assert result.pop("reader9@example.com") == "retrying"  # SES gives no reason: retry
    assert set(result.values()) == {"sent"}
    assert sorted(mail["to"] for mail in ses.delivered) == sorted(
        set(addresses) - {"reader9@example.com"}
    )
    (mail,) = ses.to("reader3@example.com")
    delivery, subscription, (subject, html, text) = expected_mail(issue, "reader3@example.com")
    assert (mail["subject"], mail["html"], mail["text"]) == (subject, html, text)
    assert mail["headers"]["List-Unsubscribe"] == (
        f"<https://news.example.org/u/{subscription.token}/>"
    )
    assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["headers"]["Message-ID"] == emails.message_id_for(issue.pk, delivery.subscriber_id)
    reference = delivery_reference.sign(delivery.pk)
    assert mail["metadata"] == {"issue": str(issue.pk), "delivery": reference}
    assert delivery.provider_message_id == mail["message_id"]


@pytest.mark.parametrize("esp", ["brevo"], indirect=True)
def test_brevo_gets_an_ascii_list_id_for_a_newsletter_named_in_german(esp, settings):
    newsletter = make_newsletter(name="Grüße aus Köln")
    make_readers(newsletter, 3)
    issue = make_draft(newsletter)
    send_all(issue)
    assert esp.calls == [3]
    assert set(statuses(issue).values()) == {"sent"}
    (mail,) = esp.to("reader0@example.com")
    # Brevo passes header values on as they are: the name goes as RFC 2047 encoded words.
    list_id = mail["headers"]["List-Id"]
    assert list_id.isascii() and list_id.endswith(f" <weekly.{settings.MAIL_DOMAIN}>")
    assert str(make_header(decode_header(list_id.rsplit(" ", 1)[0]))) == "Grüße aus Köln"
