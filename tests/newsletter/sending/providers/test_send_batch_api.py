"""The batch path: anymail's Postmark backend against a fake Postmark API on loopback."""

import json
from email.utils import parseaddr, parsedate_to_datetime

import pytest
from django.utils import timezone

from newsletter import sending
from newsletter.models import Delivery, Issue
from newsletter.sending import delivery_reference, emails, providers
from newsletter.sending.breaker import CircuitBreaker
from newsletter.sending.providers import merge
from newsletter.sending.providers.postmark import ensure_template
from subscribers.models import Subscriber, Subscription
from tests.factories import make_draft, make_newsletter, make_readers
from tests.fakes.postmark import TOKEN, FakePostmark
from tests.newsletter.sending.send_helpers import drain, reader_for, statuses

pytestmark = pytest.mark.django_db


@pytest.fixture
def postmark(settings, monkeypatch):
    fake = FakePostmark().start()
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": TOKEN, "POSTMARK_API_URL": fake.url}
    settings.SEND_ESP_TEMPLATE = "rundbrief-passthrough"
    settings.SEND_ESP_MESSAGE_STREAM = "broadcast"
    settings.SEND_RETRY_BASE_SECONDS = 0.01
    settings.SITE_URL = "https://news.example.org"
    providers._django_mail.clear()
    # Templates stored at an earlier test's fake:
    monkeypatch.setattr("newsletter.sending.providers.postmark._known", set())
    monkeypatch.setattr("newsletter.sending.providers.postmark._refused", {})
    CircuitBreaker("postmark").record_success()
    yield fake
    CircuitBreaker("postmark").record_success()
    fake.stop()


def header(message, name):
    return next(h["Value"] for h in message["Headers"] if h["Name"] == name)


def test_one_api_call_carries_up_to_the_provider_maximum(postmark):
    newsletter = make_newsletter()
    addresses = make_readers(newsletter, 1100)
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    drain(issue)
    assert postmark.calls == [
        ("/email/batchWithTemplates", 500),
        ("/email/batchWithTemplates", 500),
        ("/email/batchWithTemplates", 100),
    ]
    assert sorted(parseaddr(m["To"])[1] for m in postmark.delivered) == sorted(addresses)
    assert set(statuses(issue).values()) == {"sent"}
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.SENT
    ids = {m["MessageID"] for m in postmark.delivered}
    assert set(Delivery.objects.values_list("provider_message_id", flat=True)) == ids


def test_each_reader_gets_their_own_content_headers_and_metadata(postmark):
    newsletter = make_newsletter()
    make_readers(newsletter, 3)
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    drain(issue)
    (message,) = postmark.to("reader1@example.com")
    subscription = Subscription.objects.get(subscriber__email="reader1@example.com")
    delivery = Delivery.objects.get(subscriber__email="reader1@example.com")
    assert message["Subject"] == "Hello Reader 1"
    assert "Reader 1" in message["HtmlBody"] and "Reader 1" in message["TextBody"]
    assert f"/u/{subscription.token}/" in message["TextBody"]
    assert header(message, "List-Unsubscribe") == (
        f"<https://news.example.org/u/{subscription.token}/>"
    )
    assert header(message, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert header(message, "Message-ID").startswith(f"<{issue.pk}.")
    reference = delivery_reference.sign(delivery.pk)
    assert message["Metadata"] == {"issue": str(issue.pk), "delivery": reference}
    assert message["MessageStream"] == "broadcast"
    assert message["Tag"] == "newsletter"
    assert message["To"] == "Reader 1 <reader1@example.com>"


def test_a_refused_recipient_fails_alone(postmark):
    newsletter = make_newsletter()
    make_readers(newsletter, 4)
    postmark.recipient_errors["reader2@example.com"] = (
        406,
        "You tried to send to a recipient that has been marked as inactive.\n"
        "Found inactive addresses: reader2@example.com.\n"
        "Inactive recipients are ones that have generated a hard bounce or a spam complaint.",
    )
    postmark.recipient_errors["reader3@example.com"] = (701, "Something odd, try later")
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    drain(issue)
    result = statuses(issue)
    assert result["reader2@example.com"] == "failed"
    assert result["reader3@example.com"] == "retrying"  # unknown code: try again later
    assert result["reader0@example.com"] == result["reader1@example.com"] == "sent"
    assert len(postmark.delivered) == 2  # the two good ones, once


def test_a_provider_error_retries_the_batch(postmark, settings):
    settings.SEND_RETRY_BASE_SECONDS = 60
    newsletter = make_newsletter()
    make_readers(newsletter, 5)
    postmark.fail_next = [503]
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    drain(issue)
    assert set(statuses(issue).values()) == {"retrying"}
    assert "503" in Delivery.objects.first().error
    Delivery.objects.update(next_attempt_at=timezone.now())  # the backoff is over
    drain(issue)
    assert set(statuses(issue).values()) == {"sent"}
    assert len(postmark.delivered) == 5


def test_rate_limits_from_the_provider_pause_and_do_not_fail_the_issue(postmark, settings):
    settings.SEND_BREAKER_THRESHOLD = 10
    newsletter = make_newsletter()
    make_readers(newsletter, 30)
    postmark.fail_next = [429, 429]
    settings.SEND_BATCH_SIZE = 5
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    drain(issue)
    breaker = CircuitBreaker("postmark")
    assert breaker.state() == breaker.OPEN  # 2 calls x 5 readers = 10 transient errors
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.SENDING
    assert not Delivery.objects.filter(status="failed").exists()


def test_without_a_pass_through_template_it_still_batches_through_the_issue_template(
    postmark, settings
):
    settings.SEND_ESP_TEMPLATE = ""
    newsletter = make_newsletter()
    make_readers(newsletter, 3)
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    drain(issue)
    assert postmark.calls == [("/email/batchWithTemplates", 3)]
    assert set(statuses(issue).values()) == {"sent"}
    (message,) = postmark.to("reader0@example.com")
    assert message["Subject"] == "Hello Reader 0"


# --- the issue's own stored template -------------------------------------------------
def expected_parts(issue, address):
    delivery = Delivery.objects.get(issue=issue, subscriber__email=address)
    subscription = Subscription.objects.get(
        newsletter=issue.newsletter, subscriber=delivery.subscriber
    )
    reader = reader_for(delivery, subscription)
    return emails.personalised_parts(issue, reader)


def test_the_issue_is_stored_once_and_each_call_carries_only_reader_values(postmark):
    newsletter = make_newsletter()
    make_readers(newsletter, 1100)
    make_readers(newsletter, 1, domain="example.net", start=7)
    Subscriber.objects.filter(email="reader7@example.net").update(name='Ana <b>&</b> "Q"')
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    drain(issue)
    assert [call for call in postmark.template_calls if call[0] == "POST"] == [
        ("POST", "/templates")
    ]
    (alias,) = [name for name in postmark.templates if name.startswith("rundbrief-issue-")]
    assert alias.startswith(f"rundbrief-issue-{issue.pk}-")
    assert {m["TemplateAlias"] for m in postmark.delivered} == {alias}
    assert "{{{rb" in postmark.templates[alias]["HtmlBody"]
    for message in postmark.delivered:
        assert "HtmlBody" not in message["TemplateModel"]
        assert message["InlineCss"] is False
        assert len(json.dumps(message["TemplateModel"])) < 1000
    for address in ("reader3@example.com", "reader7@example.net"):
        (message,) = postmark.to(address)
        subject, html, text = expected_parts(issue, address)
        assert (message["Subject"], message["HtmlBody"], message["TextBody"]) == (
            subject,
            html,
            text,
        )
    first_call = postmark.delivered[:500]
    (date,) = {header(message, "Date") for message in first_call}  # one call, one moment
    assert parsedate_to_datetime(date).tzinfo is not None
    (ana,) = postmark.to("reader7@example.net")
    assert "Ana &lt;b&gt;&amp;&lt;/b&gt; &quot;Q&quot;" in ana["HtmlBody"]
    assert 'Ana <b>&</b> "Q"' in ana["TextBody"]
    assert set(statuses(issue).values()) == {"sent"}


def test_an_edited_issue_gets_a_new_template_and_finished_issues_lose_theirs(postmark):
    newsletter = make_newsletter()
    make_readers(newsletter, 3)
    first = make_draft(newsletter)
    sending.start_send(issue=first)
    drain(first)
    first_alias = providers.plan_for(Issue.objects.get(pk=first.pk)).template
    second = make_draft(newsletter, slug="second")
    draft_alias = providers.plan_for(second).template
    second.body_markdown = "Changed for {{ name }}."
    second.save()
    second = Issue.objects.get(pk=second.pk)
    edited_alias = providers.plan_for(second).template
    assert len({first_alias, draft_alias, edited_alias}) == 3
    sending.start_send(issue=second)
    drain(second)
    assert edited_alias in postmark.templates
    assert first_alias not in postmark.templates  # sent: deleted when the next was stored
    (message,) = [
        m for m in postmark.to("reader1@example.com") if m["TemplateAlias"] == edited_alias
    ]
    assert "Changed for Reader 1." in message["TextBody"]


def test_a_templates_api_outage_retries_the_batch_without_sending(postmark, settings):
    settings.SEND_RETRY_BASE_SECONDS = 60
    newsletter = make_newsletter()
    make_readers(newsletter, 4)
    postmark.fail_templates = [503]
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    drain(issue)
    assert set(statuses(issue).values()) == {"retrying"}
    assert postmark.calls == [] and postmark.delivered == []
    Delivery.objects.update(next_attempt_at=timezone.now())
    drain(issue)
    assert set(statuses(issue).values()) == {"sent"}
    assert postmark.calls == [("/email/batchWithTemplates", 4)]


@pytest.mark.parametrize(
    ("pass_through", "calls"),
    [("rundbrief-passthrough", [("/email/batchWithTemplates", 3)]), ("", [("/email", 1)] * 3)],
)
def test_a_refused_template_falls_back_to_the_pass_through_or_one_call_each(
    postmark, settings, pass_through, calls
):
    settings.SEND_ESP_TEMPLATE = pass_through
    postmark.max_templates = len(postmark.templates)  # the server's template limit is reached
    newsletter = make_newsletter()
    make_readers(newsletter, 3)
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    drain(issue)
    assert postmark.calls == calls
    assert set(statuses(issue).values()) == {"sent"}
    (message,) = postmark.to("reader2@example.com")
    assert (message["Subject"], message["HtmlBody"], message["TextBody"]) == expected_parts(
        issue, "reader2@example.com"
    )


def test_mustachio_syntax_in_the_issue_goes_through_the_pass_through_template(postmark):
    newsletter = make_newsletter()
    make_readers(newsletter, 3)
    issue = make_draft(newsletter, body_markdown="Literally `a}}b` for {{ name }}.")
    sending.start_send(issue=issue)
    drain(issue)
    assert postmark.calls == [("/email/batchWithTemplates", 3)]
    assert not any(name.startswith("rundbrief-issue-") for name in postmark.templates)
    (message,) = postmark.to("reader1@example.com")
    assert message["TemplateAlias"] == "rundbrief-passthrough"
    assert "a}}b" in message["TextBody"] and "Reader 1" in message["TextBody"]


def test_a_template_deleted_at_the_provider_is_stored_again(postmark, settings):
    settings.SEND_BATCH_SIZE = 2
    newsletter = make_newsletter()
    make_readers(newsletter, 4)
    issue = make_draft(newsletter)

    def delete_issue_templates(call):
        if call == 2:
            for name in [n for n in postmark.templates if n.startswith("rundbrief-issue-")]:
                del postmark.templates[name]

    postmark.on_call = delete_issue_templates
    sending.start_send(issue=issue)
    drain(issue)
    assert set(statuses(issue).values()) == {"sent"}
    assert sorted(parseaddr(m["To"])[1] for m in postmark.delivered) == [
        f"reader{n}@example.com" for n in range(4)
    ]
    posts = [call for call in postmark.template_calls if call[0] == "POST"]
    assert len(posts) == 2


@pytest.mark.parametrize(
    "name",
    ["", "Reader 1", "Ana", 'Ana <b>&</b> "Q"', "Zoë Köhler", "Smith, John", "A  B", " A", "x.y"],
)
def test_the_quick_to_header_is_the_email_packages(name):
    reader = emails.Reader(
        delivery_id=1,
        subscriber_id=1,
        email="reader@example.com",
        name=name,
        custom_fields={},
        unsubscribe_url="",
        preferences_url="",
    )
    assert merge.to_header(reader) == emails.to_header(reader)


def test_a_network_error_retries_the_batch(postmark, settings):
    settings.SEND_RETRY_BASE_SECONDS = 60
    newsletter = make_newsletter()
    make_readers(newsletter, 3)
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    ensure_template(issue, *_stored(issue))  # stored; then the API goes away
    postmark.stop()
    drain(issue)
    assert set(statuses(issue).values()) == {"retrying"}
    assert Delivery.objects.first().error.startswith("postmark: ")


def _stored(issue):
    plan = providers.plan_for(issue)
    return plan.template, plan.form


def test_with_stored_templates_off_it_sends_through_the_pass_through_template(postmark, settings):
    settings.SEND_ESP_STORE_TEMPLATES = False
    newsletter = make_newsletter()
    make_readers(newsletter, 3)
    issue = make_draft(newsletter)
    sending.start_send(issue=issue)
    drain(issue)
    assert postmark.calls == [("/email/batchWithTemplates", 3)]
    assert not any(name.startswith("rundbrief-issue-") for name in postmark.templates)
    (message,) = postmark.to("reader1@example.com")
    assert message["TemplateAlias"] == "rundbrief-passthrough"
    assert (message["Subject"], message["HtmlBody"], message["TextBody"]) == expected_parts(
        issue, "reader1@example.com"
    )
