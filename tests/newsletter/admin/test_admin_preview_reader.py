"""Preview as a reader: the author picks a reader of the newsletter, or sample values
(custom fields included); an unknown custom field is flagged, not refused."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from subscribers.models import Subscriber, Subscription
from tests.factories import make_issue, make_newsletter

pytestmark = pytest.mark.django_db

PREVIEW = "admin:newsletter_issue_preview"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()  # the readers' custom field keys are cached for a minute
    yield
    cache.clear()


def reader(newsletter, email, name, **custom):
    subscriber = Subscriber.objects.create(email=email, name=name, custom_fields=custom)
    Subscription.objects.create(
        subscriber=subscriber, newsletter=newsletter, status=Subscription.Status.CONFIRMED
    )
    return subscriber


def preview_data(newsletter, **overrides):
    data = {
        "newsletter": newsletter.pk,
        "subject": "Hello {{ name }}",
        "preview_text": "",
        "slug": "",
        "body_markdown": "From {{ custom.Stadt }} to {{ custom.stadt }}.",
    }
    return {**data, **overrides}


def test_the_preview_personalises_for_the_chosen_reader(admin_client, newsletter):
    reader(newsletter, "ada@example.org", "Ada", Stadt="Berlin")

    payload = admin_client.post(
        reverse(PREVIEW), preview_data(newsletter, preview_reader="ADA@example.org")
    ).json()

    assert payload["subject"] == "Hello Ada"
    assert "From Berlin to Berlin." in payload["text"]
    assert payload["reader"] == "ada@example.org"
    assert payload["warnings"] == []


def test_sample_values_fill_every_custom_field_the_readers_have(admin_client, newsletter):
    reader(newsletter, "ada@example.org", "Ada", Stadt="Berlin")

    payload = admin_client.post(reverse(PREVIEW), preview_data(newsletter)).json()

    assert payload["subject"] == "Hello Alex Example"
    assert "From [Stadt] to [Stadt]." in payload["text"]
    assert payload["warnings"] == []


def test_a_reader_of_another_newsletter_is_not_shown(admin_client, newsletter):
    other = make_newsletter(slug="other", name="Other")
    reader(other, "bob@example.org", "Bob", Stadt="Paris")

    payload = admin_client.post(
        reverse(PREVIEW), preview_data(newsletter, preview_reader="bob@example.org")
    ).json()

    assert payload["subject"] == "Hello Alex Example"
    assert "Bob" not in payload["text"]
    assert any("bob@example.org" in warning for warning in payload["warnings"])


def test_an_unknown_custom_field_is_flagged_but_rendered(admin_client, newsletter):
    reader(newsletter, "ada@example.org", "Ada", Stadt="Berlin")

    response = admin_client.post(
        reverse(PREVIEW), preview_data(newsletter, body_markdown="In {{ custom.Unknown }}.")
    )

    assert response.status_code == 200
    warnings = response.json()["warnings"]
    assert len(warnings) == 1 and "{{ custom.Unknown }}" in warnings[0]


def test_the_editor_offers_the_readers_of_the_newsletter(admin_client, newsletter):
    reader(newsletter, "ada@example.org", "Ada")
    issue = make_issue(newsletter, sent=False)

    page = admin_client.get(reverse("admin:newsletter_issue_change", args=[issue.pk]))

    html = page.content.decode()
    assert 'name="preview_reader"' in html and 'list="rb-readers"' in html
    assert '<option value="ada@example.org">' in html
    assert 'class="rb-warnings"' in html
