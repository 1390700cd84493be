"""The authoring admin: editor page, live preview, autosave, duplication, image upload,
and the model rules the admin enforces (placeholders, reserved slugs, consent version)."""

import io
import json
import re

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from newsletter.models import Issue, Newsletter, Upload
from tests.factories import make_issue, newsletter_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(newsletter):
    return make_issue(newsletter, sent=False, body_markdown="Old body")


def png_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def issue_form_data(newsletter, **overrides):
    data = {
        "newsletter": newsletter.pk,
        "subject": "Hello {{ name }}",
        "preview_text": "Inside this week",
        "slug": "hello",
        "body_markdown": '# Heading\n\nHi {{ name | default: "there" }}, see [x](https://e.com).',
        "show_in_archive": "on",
    }
    return {**data, **overrides}


# --- the editor page --------------------------------------------------------------------
def test_the_change_page_carries_the_editor_without_inline_script(admin_client, draft):
    response = admin_client.get(reverse("admin:newsletter_issue_change", args=[draft.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="rb-editor' in page
    assert "/static/js/editor.js" in page and "/static/css/editor.css" in page
    assert f'data-autosave-url="/admin/newsletter/issue/{draft.pk}/autosave/"' in page
    section = page[page.index('<section id="rb-preview"') : page.index("</section>")]
    assert 'sandbox=""' in section
    assert "<script" not in section and "style=" not in section
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", page)  # no inline code


def test_a_sent_issue_gets_no_autosave(admin_client, newsletter):
    sent = make_issue(newsletter, sent=True)

    page = admin_client.get(reverse("admin:newsletter_issue_change", args=[sent.pk])).content

    assert b"data-autosave-url" not in page


def test_saving_an_issue_stores_sanitised_html(admin_client, newsletter):
    data = issue_form_data(newsletter, body_markdown="Hi <script>alert(1)</script>**you**")

    response = admin_client.post(reverse("admin:newsletter_issue_add"), data)

    assert response.status_code == 302
    issue = Issue.objects.get(slug="hello")
    assert issue.body_html == "<p>Hi <strong>you</strong></p>\n"
    assert issue.status == Issue.Status.DRAFT


def test_an_unknown_placeholder_is_refused_at_save_with_a_clear_message(admin_client, newsletter):
    data = issue_form_data(newsletter, body_markdown="Hi {{ firstname }}")

    response = admin_client.post(reverse("admin:newsletter_issue_add"), data)

    assert response.status_code == 200
    assert "Unknown placeholder: {{ firstname }}." in response.content.decode()
    assert not Issue.objects.exists()


def test_a_reserved_issue_slug_is_refused(admin_client, newsletter):
    response = admin_client.post(
        reverse("admin:newsletter_issue_add"), issue_form_data(newsletter, slug="feed")
    )

    assert response.status_code == 200
    assert "is reserved" in response.content.decode()
    assert not Issue.objects.exists()


# --- live preview ----------------------------------------------------------------------
def test_the_preview_renders_the_current_form_content(admin_client, newsletter):
    admin = User.objects.get(username="admin")
    admin.first_name, admin.last_name = "Ada", "Lovelace"
    admin.save()

    response = admin_client.post(
        reverse("admin:newsletter_issue_preview"), issue_form_data(newsletter)
    )

    assert response.status_code == 200
    payload = response.json()
    # Sample values, not the previewing admin's own name.
    assert payload["subject"] == "Hello Alex Example"
    assert "Hi Alex Example, see x [1]." in payload["text"]
    frame = admin_client.get(payload["html_url"])
    assert frame.status_code == 200
    assert "Hi Alex Example, see" in frame.content.decode()
    assert 'style="' in frame.content.decode()  # the real mail, CSS inlined
    assert "script-src" not in frame["Content-Security-Policy"]
    assert "default-src 'none'" in frame["Content-Security-Policy"]
    assert frame["X-Frame-Options"] == "SAMEORIGIN"


def test_a_preview_is_only_shown_to_the_author_who_asked(admin_client, client, newsletter):
    payload = admin_client.post(
        reverse("admin:newsletter_issue_preview"), issue_form_data(newsletter)
    ).json()
    other = User.objects.create_superuser("other", "other@example.org", "pw")
    client.force_login(other)

    assert client.get(payload["html_url"]).status_code == 404


def test_the_preview_explains_an_unknown_placeholder(admin_client, newsletter):
    response = admin_client.post(
        reverse("admin:newsletter_issue_preview"),
        issue_form_data(newsletter, body_markdown="{{ nme }}"),
    )

    assert response.status_code == 400
    errors = response.json()["errors"]["body_markdown"]
    assert "Unknown placeholder: {{ nme }}." in errors[0]["message"]


def test_the_preview_needs_a_staff_login(client, newsletter):
    response = client.post(reverse("admin:newsletter_issue_preview"), issue_form_data(newsletter))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# --- autosave --------------------------------------------------------------------------
def test_autosave_stores_the_draft(admin_client, draft, newsletter):
    url = reverse("admin:newsletter_issue_autosave", args=[draft.pk])

    response = admin_client.post(url, issue_form_data(newsletter, body_markdown="New **body**"))

    assert response.status_code == 200
    assert "Draft saved at" in response.json()["message"]
    draft.refresh_from_db()
    assert draft.body_markdown == "New **body**"
    assert draft.body_html == "<p>New <strong>body</strong></p>\n"
    assert draft.subject == "Hello {{ name }}"


def test_autosave_keeps_the_old_draft_when_the_input_is_bad(admin_client, draft, newsletter):
    url = reverse("admin:newsletter_issue_autosave", args=[draft.pk])

    response = admin_client.post(url, issue_form_data(newsletter, body_markdown="{{ bad }}"))

    assert response.status_code == 400
    draft.refresh_from_db()
    assert draft.body_markdown == "Old body"


def test_autosave_refuses_a_slug_another_issue_has(admin_client, draft, newsletter):
    make_issue(newsletter, sent=False, slug="taken")
    url = reverse("admin:newsletter_issue_autosave", args=[draft.pk])

    response = admin_client.post(url, issue_form_data(newsletter, slug="taken"))

    assert response.status_code == 400
    draft.refresh_from_db()
    assert draft.slug == "first-issue"


def test_autosave_leaves_a_sent_issue_alone(admin_client, newsletter):
    sent = make_issue(newsletter, sent=True, body_markdown="As sent")
    url = reverse("admin:newsletter_issue_autosave", args=[sent.pk])

    response = admin_client.post(url, issue_form_data(newsletter, body_markdown="Changed"))

    assert response.status_code == 409
    sent.refresh_from_db()
    assert sent.body_markdown == "As sent"


# --- duplicate -------------------------------------------------------------------------
def test_duplicating_makes_a_new_draft_without_sending_history(admin_client, newsletter):
    sent = make_issue(newsletter, sent=True, recipient_count=120)

    response = admin_client.post(
        reverse("admin:newsletter_issue_changelist"),
        {"action": "duplicate_as_draft", "_selected_action": [sent.pk]},
        follow=True,
    )

    assert "Created 1 draft copy." in response.content.decode()
    copy = Issue.objects.exclude(pk=sent.pk).get()
    assert copy.status == Issue.Status.DRAFT
    assert copy.slug == "first-issue-2"
    assert (copy.subject, copy.body_markdown) == (sent.subject, sent.body_markdown)
    assert copy.sent_at is None and copy.recipient_count == 0


def test_duplicating_twice_finds_a_free_slug(admin_client, newsletter):
    original = make_issue(newsletter, sent=True)
    for _ in range(2):
        admin_client.post(
            reverse("admin:newsletter_issue_changelist"),
            {"action": "duplicate_as_draft", "_selected_action": [original.pk]},
        )

    slugs = set(Issue.objects.values_list("slug", flat=True))
    assert slugs == {"first-issue", "first-issue-2", "first-issue-3"}


# --- upload ----------------------------------------------------------------------------
def test_an_uploaded_image_lands_in_media_storage(admin_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    image = SimpleUploadedFile("chart.png", png_bytes(), content_type="image/png")

    response = admin_client.post(reverse("admin:newsletter_issue_upload"), {"file": image})

    assert response.status_code == 201
    upload = Upload.objects.get()
    assert (tmp_path / upload.file.name).read_bytes() == png_bytes()
    assert upload.uploaded_by.username == "admin"
    url = response.json()["url"]
    assert url == f"http://testserver/media/{upload.file.name}"
    assert response.json()["markdown"] == f"![Image]({url})"


def test_an_upload_that_is_not_an_image_is_refused(admin_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    fake = SimpleUploadedFile("evil.png", b"<script>alert(1)</script>", content_type="image/png")

    response = admin_client.post(reverse("admin:newsletter_issue_upload"), {"file": fake})

    assert response.status_code == 400
    assert "file" in json.loads(response.content)["errors"]
    assert not Upload.objects.exists()
    assert not list(tmp_path.rglob("*.png"))


# --- newsletter admin --------------------------------------------------------------------
def test_a_reserved_newsletter_slug_is_refused(admin_client):
    data = {**newsletter_fields(slug="admin"), "language": "en", "accent_colour": "#112233"}
    data["consent_text"] = "I agree."

    response = admin_client.post(reverse("admin:newsletter_newsletter_add"), data)

    assert response.status_code == 200
    assert "is used by the site itself" in response.content.decode()
    assert not Newsletter.objects.exists()


def test_changing_the_consent_text_bumps_its_version(newsletter):
    newsletter.description = "Only the description changes."
    newsletter.save()
    assert newsletter.consent_version == 1

    newsletter.consent_text = "New wording."
    newsletter.save()

    newsletter.refresh_from_db()
    assert newsletter.consent_version == 2
