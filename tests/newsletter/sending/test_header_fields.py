"""Text that ends up in a mail header (subject, sender name, list name) is one line.

A line break there makes every delivery of the issue fail to build, so it is refused
where the text is written: the model's validation, and with it every admin form.
"""

import importlib

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.urls import reverse

from newsletter.models import Issue, Newsletter
from tests.factories import build_issue, make_issue, make_newsletter, newsletter_fields

pytestmark = pytest.mark.django_db

BROKEN = ["Hello\nBcc: x@example.org", "Hello\r\nthere", "Hello\x1bthere", "Hello\u2028there"]
MESSAGE = "Line breaks and other control characters are not allowed here."


def issue_form_data(newsletter, **overrides):
    data = {
        "newsletter": newsletter.pk,
        "subject": "Hello",
        "preview_text": "Inside this week",
        "slug": "hello",
        "body_markdown": "Body",
        "show_in_archive": "on",
    }
    return {**data, **overrides}


def newsletter_form_data(**overrides):
    data = {**newsletter_fields(), "language": "en", "accent_colour": "#112233"}
    data["consent_text"] = "I agree."
    return {**data, **overrides}


@pytest.mark.parametrize("subject", BROKEN)
def test_the_admin_form_refuses_a_subject_with_a_line_break(admin_client, subject):
    newsletter = make_newsletter()
    response = admin_client.post(
        reverse("admin:newsletter_issue_add"), issue_form_data(newsletter, subject=subject)
    )
    assert response.status_code == 200
    assert response.context_data["adminform"].form.errors["subject"] == [MESSAGE]
    assert not Issue.objects.exists()


def test_the_admin_form_refuses_a_preview_text_with_a_line_break(admin_client):
    newsletter = make_newsletter()
    response = admin_client.post(
        reverse("admin:newsletter_issue_add"),
        issue_form_data(newsletter, preview_text="Inside\nthis week"),
    )
    assert response.context_data["adminform"].form.errors["preview_text"] == [MESSAGE]
    assert not Issue.objects.exists()


def test_autosave_refuses_a_subject_with_a_line_break_and_keeps_the_draft(admin_client):
    newsletter = make_newsletter()
    draft = make_issue(newsletter, sent=False, subject="Old subject")
    url = reverse("admin:newsletter_issue_autosave", args=[draft.pk])
    response = admin_client.post(url, issue_form_data(newsletter, subject="New\nsubject"))
    assert response.status_code == 400
    assert response.json()["errors"]["subject"][0]["message"] == MESSAGE
    draft.refresh_from_db()
    assert draft.subject == "Old subject"


def test_model_validation_refuses_a_subject_with_a_line_break():
    issue = build_issue(make_newsletter(), subject="Hello\nthere")
    with pytest.raises(ValidationError) as error:
        issue.full_clean()
    assert error.value.message_dict["subject"] == [MESSAGE]


@pytest.mark.parametrize("field", ["name", "from_name", "welcome_subject"])
def test_the_newsletter_admin_refuses_header_fields_with_a_line_break(admin_client, field):
    response = admin_client.post(
        reverse("admin:newsletter_newsletter_add"),
        newsletter_form_data(**{field: "Weekly\r\nBcc: x@example.org"}),
    )
    assert response.status_code == 200
    assert response.context_data["adminform"].form.errors[field] == [MESSAGE]
    assert not Newsletter.objects.exists()


def test_the_newsletter_admin_still_saves_a_sender_name_with_any_letters(admin_client):
    response = admin_client.post(
        reverse("admin:newsletter_newsletter_add"),
        newsletter_form_data(from_name="Zoë „Gartenfreunde“ Ørsted"),
    )
    assert response.status_code == 302
    assert Newsletter.objects.get().from_name == "Zoë „Gartenfreunde“ Ørsted"


def test_the_migration_repairs_subjects_and_sender_names_stored_before_the_rule():
    newsletter = make_newsletter()
    issue = make_issue(newsletter, sent=False)
    Newsletter.objects.filter(pk=newsletter.pk).update(from_name="Ada\r\nBcc: x@example.org")
    Issue.objects.filter(pk=issue.pk).update(subject="Hello\nthere", preview_text="Fine text")
    migration = importlib.import_module("newsletter.migrations.0004_header_validators")
    migration.repair_header_fields(django_apps, None)
    newsletter.refresh_from_db()
    issue.refresh_from_db()
    assert newsletter.from_name == "Ada Bcc: x@example.org"
    assert newsletter.name == "Weekly Bits"
    assert (issue.subject, issue.preview_text) == ("Hello there", "Fine text")


def test_the_live_preview_explains_a_subject_with_a_line_break(admin_client):
    newsletter = make_newsletter()
    response = admin_client.post(
        reverse("admin:newsletter_issue_preview"),
        issue_form_data(newsletter, subject="Hello\nBcc: x@example.org"),
    )
    assert response.status_code == 400
    assert response.json()["errors"]["subject"][0]["message"] == MESSAGE
